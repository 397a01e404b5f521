// "Manage registries": what the signed-in principal may read, with filter and sort.
import {
  Badge,
  Button,
  Input,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Title2,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { type Registry, get } from "../api";
import { AppLink, Problem, StatusBadge, usePoll } from "../components";
import { Actions, usePermissions } from "../permissions";
import { navigate } from "../router";

type Column = "name" | "status" | "location" | "regions" | "drift" | "policy";
const COLUMNS: [Column, string][] = [
  ["name", "Name"],
  ["status", "Status"],
  ["location", "Primary region"],
  ["regions", "Regions"],
  ["drift", "Drift"],
  ["policy", "Reconcile policy"],
];

function value(registry: Registry, column: Column): string | number {
  switch (column) {
    case "name":
      return registry.name.toLowerCase();
    case "status":
      return registry.status;
    case "location":
      return registry.spec.location;
    case "regions":
      return registry.spec.replication_locations.length;
    case "drift":
      return registry.drift.length;
    case "policy":
      return registry.reconcilePolicy;
  }
}

export function Registries() {
  const [registries, setRegistries] = useState<Registry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ column: Column; ascending: boolean }>({ column: "name", ascending: true });
  const can = usePermissions("/");
  usePoll(
    async () => {
      try {
        setRegistries((await get<{ value: Registry[] }>("/api/registries")).value);
        setError(null);
      } catch (e) {
        setError(e);
      }
      return false;
    },
    5000,
    [],
  );

  const loaded = registries !== null && can.ready;
  useEffect(() => {
    // the time to interactive a test run reports: the list shown and its buttons live
    if (loaded && !performance.getEntriesByName("registries-interactive").length) {
      performance.mark("registries-interactive");
    }
  }, [loaded]);

  const needle = filter.trim().toLowerCase();
  const shown = (registries ?? [])
    .filter((r) =>
      [r.name, r.status, r.spec.location, r.reconcilePolicy, ...r.spec.replication_locations.map((l) => l.location)]
        .join(" ")
        .toLowerCase()
        .includes(needle),
    )
    .sort((a, b) => {
      const [x, y] = [value(a, sort.column), value(b, sort.column)];
      return (x < y ? -1 : x > y ? 1 : 0) * (sort.ascending ? 1 : -1);
    });

  return (
    <section aria-labelledby="registries-title">
      <Title2 as="h1" id="registries-title">
        Manage registries
      </Title2>
      <div style={{ display: "flex", gap: 12, padding: "12px 0" }}>
        <Button
          appearance="primary"
          disabled={!can(Actions.registriesWrite)}
          onClick={() => navigate("/create")}
        >
          Create registry
        </Button>
        <Input
          aria-label="Filter registries"
          placeholder="Filter by name, region, status"
          value={filter}
          onChange={(_, data) => setFilter(data.value)}
        />
      </div>
      <Problem error={error} />
      {registries === null && !error ? (
        <Spinner label="Loading registries" />
      ) : (
        <Table aria-label="Registries" data-testid="registries-table">
          <TableHeader>
            <TableRow>
              {COLUMNS.map(([column, label]) => (
                <TableHeaderCell
                  key={column}
                  sortable
                  sortDirection={sort.column === column ? (sort.ascending ? "ascending" : "descending") : undefined}
                  onClick={() =>
                    setSort({ column, ascending: sort.column === column ? !sort.ascending : true })
                  }
                >
                  {label}
                </TableHeaderCell>
              ))}
            </TableRow>
          </TableHeader>
          <TableBody>
            {shown.map((r) => (
              <TableRow key={r.name}>
                <TableCell>
                  <AppLink to={`/registries/${encodeURIComponent(r.name)}`}>{r.name}</AppLink>
                </TableCell>
                <TableCell>
                  <StatusBadge status={r.status} />
                </TableCell>
                <TableCell>{r.spec.location}</TableCell>
                <TableCell>{r.spec.replication_locations.map((l) => l.location).join(", ")}</TableCell>
                <TableCell>
                  {r.drift.length ? (
                    <Badge color="warning">{r.drift.length} drifted</Badge>
                  ) : (
                    <Badge color="success" appearance="outline">
                      in sync
                    </Badge>
                  )}
                </TableCell>
                <TableCell>{r.reconcilePolicy}</TableCell>
              </TableRow>
            ))}
            {shown.length === 0 && (
              <TableRow>
                <TableCell colSpan={6}>No registries{needle ? " match the filter" : " yet"}.</TableCell>
              </TableRow>
            )}
          </TableBody>
        </Table>
      )}
    </section>
  );
}
