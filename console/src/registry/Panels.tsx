// The registry page's read-only tabs: overview, resources per region, drift field by field, history.
import {
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from "@fluentui/react-components";
import { type ReactNode, useEffect, useState } from "react";
import { type ActivityEntry, type Registry, get } from "../api";
import { AppLink, Problem, StatusBadge } from "../components";

function Rows({ label, head, rows }: { label: string; head: string[]; rows: ReactNode[][] }) {
  return (
    <Table aria-label={label} size="small">
      <TableHeader>
        <TableRow>
          {head.map((h) => (
            <TableHeaderCell key={h}>{h}</TableHeaderCell>
          ))}
        </TableRow>
      </TableHeader>
      <TableBody>
        {rows.map((row, i) => (
          <TableRow key={i}>
            {row.map((cell, j) => (
              <TableCell key={j}>{cell}</TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function Overview({ registry }: { registry: Registry }) {
  const spec = registry.spec;
  const rows: [string, string][] = [
    ["Description", spec.description ?? ""],
    ["Primary region", spec.location],
    ["Regions", spec.replication_locations.map((l) => l.location).join(", ")],
    ["Tags", Object.entries(spec.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")],
    ["Reconcile policy", registry.reconcilePolicy],
    ["Generation", `${registry.observedGeneration} of ${registry.generation} applied`],
    ["Last observed", registry.observedAt ?? "never"],
    ["Created", registry.createdAt],
  ];
  return (
    <Rows
      label="Overview"
      head={["Property", "Value"]}
      rows={[
        ["Status", <StatusBadge status={registry.status} />],
        ...rows,
        ["Latest operation", <AppLink to={registry.operation.replace(/^\/api/, "")}>{registry.operation.split("/").pop()}</AppLink>],
      ]}
    />
  );
}

interface ResourceRow {
  type: string;
  name: string;
  region: string;
  detail: string;
  state: string;
}

function resourceRows(resources: Record<string, unknown>): ResourceRow[] {
  const rows: ResourceRow[] = [];
  for (const [type, value] of Object.entries(resources)) {
    for (const item of Array.isArray(value) ? value : value ? [value] : []) {
      const r = item as Record<string, unknown>;
      const detail = ["sku", "hns", "index"]
        .filter((k) => r[k] !== undefined)
        .map((k) => `${k} ${String(r[k])}`)
        .join(", ");
      rows.push({
        type: type.replace(/_/g, " "),
        name: String(r.name ?? ""),
        region: String(r.region ?? r.location ?? ""),
        detail,
        state: String(r.state ?? ""),
      });
    }
  }
  return rows;
}

export function Resources({ registry }: { registry: Registry }) {
  const rows = resourceRows(registry.resources);
  const regions = [...new Set([...registry.spec.replication_locations.map((l) => l.location), ...rows.map((r) => r.region)])];
  if (!rows.length) return <Text>Nothing observed yet.</Text>;
  return (
    <div style={{ display: "grid", gap: 16 }}>
      {regions.map((region) => (
        <section key={region} aria-label={`Resources in ${region}`} data-testid={`resources-${region}`}>
          <h2 style={{ fontSize: 16, margin: "8px 0" }}>{region}</h2>
          <Rows
            label={`Resources in ${region}`}
            head={["Type", "Name", "Details", "State"]}
            rows={rows.filter((r) => r.region === region).map((r) => [r.type, r.name, r.detail, r.state])}
          />
        </section>
      ))}
    </div>
  );
}

export function Drift({ registry }: { registry: Registry }) {
  if (!registry.drift.length) {
    return <Text data-testid="no-drift">{`In sync with the spec as of ${registry.observedAt ?? "never"}.`}</Text>;
  }
  return (
    <Rows
      label="Drift"
      head={["Resource", "Field", "Desired", "Actual"]}
      rows={registry.drift.map((d) => [d.resource, d.field, d.desired, d.actual])}
    />
  );
}

export function History({ name }: { name: string }) {
  const [entries, setEntries] = useState<ActivityEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    get<{ value: ActivityEntry[] }>(`/api/activity?registry=${encodeURIComponent(name)}`)
      .then((found) => setEntries(found.value))
      .catch(setError);
  }, [name]);
  if (error) return <Problem error={error} />;
  if (!entries) return <Text>Loading history</Text>;
  return (
    <Rows
      label="Operation history"
      head={["When", "Who", "Action", "Result", "Operation"]}
      rows={entries.map((e) => [
        e.time,
        e.principal?.name ?? "",
        e.action,
        e.result,
        e.operation ? <AppLink to={e.operation.replace(/^\/api/, "")}>{e.operation.split("/").pop()}</AppLink> : "",
      ])}
    />
  );
}
