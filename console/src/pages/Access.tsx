// The Access tab: role assignments on the registry (principal, role, scope, data-plane state), grant with a
// role picker, revoke, and custom roles.
import {
  Button,
  Dropdown,
  Field,
  Input,
  Option,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Textarea,
} from "@fluentui/react-components";
import { useCallback, useEffect, useState } from "react";
import { ApiError, type RoleAssignment, type RoleDefinition, call, get } from "../api";
import { Problem, StatusBadge } from "../components";
import { Actions, usePermissions } from "../permissions";

const PRINCIPAL_TYPES = ["User", "Group", "ServicePrincipal"];
const lines = (text: string) => text.split("\n").map((l) => l.trim()).filter(Boolean);

export default function Access({ name }: { name: string }) {
  const scope = `/registries/${name}`;
  const can = usePermissions(scope);
  const canAtRoot = usePermissions("/");
  const [assignments, setAssignments] = useState<RoleAssignment[]>([]);
  const [roles, setRoles] = useState<RoleDefinition[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [grant, setGrant] = useState({ principalId: "", principalType: "User", roleId: "" });
  const [custom, setCustom] = useState({ roleName: "", description: "", actions: "", notActions: "" });
  const load = useCallback(async () => {
    try {
      const [a, inherited, r] = await Promise.all([
        get<{ value: RoleAssignment[] }>(`/api/roleAssignments?scope=${encodeURIComponent(scope)}`),
        // assignments at / apply here too; shown when the caller may read them there
        get<{ value: RoleAssignment[] }>("/api/roleAssignments?scope=/").catch(() => ({ value: [] })),
        get<{ value: RoleDefinition[] }>("/api/roleDefinitions"),
      ]);
      setAssignments([...a.value, ...inherited.value]);
      setRoles(r.value);
    } catch (e) {
      setError(e);
    }
  }, [scope]);
  useEffect(() => void load(), [load]);
  const act = async (work: () => Promise<unknown>) => {
    try {
      await work();
      setError(null);
      await load();
    } catch (e) {
      setError(e);
    }
  };
  const roleName = (id: string) => roles.find((r) => r.id === id)?.properties.roleName ?? id;
  const fieldError = (field: string) => (error instanceof ApiError ? error.fieldError(field) : undefined);

  return (
    <div style={{ display: "grid", gap: 16 }}>
      <Problem error={error instanceof ApiError && error.errors.length ? null : error} />
      <Table aria-label="Role assignments" size="small">
        <TableHeader>
          <TableRow>
            {["Principal", "Type", "Role", "Scope", "Data plane", ""].map((h, i) => (
              <TableHeaderCell key={i}>{h || "Actions"}</TableHeaderCell>
            ))}
          </TableRow>
        </TableHeader>
        <TableBody>
          {assignments.map((a) => (
            <TableRow key={a.name} data-testid={`assignment-${a.properties.principalId}`}>
              <TableCell>
                <code>{a.properties.principalId}</code>
              </TableCell>
              <TableCell>{a.properties.principalType}</TableCell>
              <TableCell>{a.properties.roleName ?? roleName(a.properties.roleDefinitionId)}</TableCell>
              <TableCell>{a.properties.scope}</TableCell>
              <TableCell>
                <StatusBadge status={a.properties.dataPlane.state} />
              </TableCell>
              <TableCell>
                <Button
                  size="small"
                  disabled={!can(Actions.assignmentsDelete) || a.properties.scope.toLowerCase() !== scope.toLowerCase()}
                  onClick={() => void act(() => call("DELETE", `/api/roleAssignments/${a.name}`))}
                >
                  Revoke
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>

      <section aria-labelledby="grant-title" style={{ display: "flex", gap: 8, alignItems: "end", flexWrap: "wrap" }}>
        <h2 id="grant-title" style={{ fontSize: 16, width: "100%", margin: 0 }}>
          Grant a role on this registry
        </h2>
        <Field label="Principal object id" validationMessage={fieldError("principalId")}>
          <Input value={grant.principalId} onChange={(_, d) => setGrant({ ...grant, principalId: d.value })} />
        </Field>
        <Field label="Principal type">
          <Dropdown
            value={grant.principalType}
            selectedOptions={[grant.principalType]}
            onOptionSelect={(_, d) => d.optionValue && setGrant({ ...grant, principalType: d.optionValue })}
          >
            {PRINCIPAL_TYPES.map((t) => (
              <Option key={t}>{t}</Option>
            ))}
          </Dropdown>
        </Field>
        <Field label="Role" validationMessage={fieldError("roleDefinitionId")}>
          <Dropdown
            placeholder="Pick a role"
            value={grant.roleId ? roleName(grant.roleId) : ""}
            selectedOptions={grant.roleId ? [grant.roleId] : []}
            onOptionSelect={(_, d) => d.optionValue && setGrant({ ...grant, roleId: d.optionValue })}
          >
            {roles.map((r) => (
              <Option key={r.id} value={r.id} text={r.properties.roleName}>
                {`${r.properties.roleName} (${r.properties.type})`}
              </Option>
            ))}
          </Dropdown>
        </Field>
        <Button
          appearance="primary"
          disabled={!can(Actions.assignmentsWrite)}
          onClick={() =>
            void act(() =>
              call("PUT", `/api/roleAssignments/${crypto.randomUUID()}`, {
                properties: {
                  scope,
                  principalId: grant.principalId.trim(),
                  principalType: grant.principalType,
                  roleDefinitionId: grant.roleId,
                },
              }),
            )
          }
        >
          Grant
        </Button>
      </section>

      <section aria-labelledby="roles-title" style={{ display: "grid", gap: 8 }}>
        <h2 id="roles-title" style={{ fontSize: 16, margin: 0 }}>
          Custom roles
        </h2>
        <Table aria-label="Custom roles" size="small">
          <TableHeader>
            <TableRow>
              {["Role", "Actions", "Not actions", "Delete"].map((h) => (
                <TableHeaderCell key={h}>{h}</TableHeaderCell>
              ))}
            </TableRow>
          </TableHeader>
          <TableBody>
            {roles
              .filter((r) => r.properties.type === "CustomRole")
              .map((r) => (
                <TableRow key={r.id}>
                  <TableCell>{r.properties.roleName}</TableCell>
                  <TableCell>{r.properties.permissions[0]?.actions.join(", ")}</TableCell>
                  <TableCell>{r.properties.permissions[0]?.notActions.join(", ")}</TableCell>
                  <TableCell>
                    <Button
                      size="small"
                      disabled={!canAtRoot(Actions.definitionsWrite)}
                      onClick={() => void act(() => call("DELETE", `/api/roleDefinitions/${r.name}`))}
                    >
                      Delete
                    </Button>
                  </TableCell>
                </TableRow>
              ))}
          </TableBody>
        </Table>
        <div style={{ display: "grid", gridTemplateColumns: "1fr 1fr", gap: 8 }}>
          <Field label="Role name" validationMessage={fieldError("roleName")}>
            <Input value={custom.roleName} onChange={(_, d) => setCustom({ ...custom, roleName: d.value })} />
          </Field>
          <Field label="Description" validationMessage={fieldError("description")}>
            <Input value={custom.description} onChange={(_, d) => setCustom({ ...custom, description: d.value })} />
          </Field>
          <Field label="Actions, one per line" validationMessage={fieldError("actions")}>
            <Textarea value={custom.actions} onChange={(_, d) => setCustom({ ...custom, actions: d.value })} />
          </Field>
          <Field label="Not actions, one per line" validationMessage={fieldError("notActions")}>
            <Textarea value={custom.notActions} onChange={(_, d) => setCustom({ ...custom, notActions: d.value })} />
          </Field>
        </div>
        <Button
          style={{ justifySelf: "start" }}
          disabled={!canAtRoot(Actions.definitionsWrite)}
          onClick={() =>
            void act(() =>
              call("PUT", `/api/roleDefinitions/${crypto.randomUUID()}`, {
                roleName: custom.roleName,
                description: custom.description,
                actions: lines(custom.actions),
                notActions: lines(custom.notActions),
                assignableScopes: ["/"],
              }),
            )
          }
        >
          Create custom role
        </Button>
      </section>
    </div>
  );
}
