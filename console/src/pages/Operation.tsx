// An operation, live: its steps grouped by region (state, attempts, last error, resource), polled once a second
// until it is final; no page reloads. A link to the ticket when a ticket requested it.
import {
  Card,
  CardHeader,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
} from "@fluentui/react-components";
import { useState } from "react";
import { type Operation, type Step, TERMINAL, get } from "../api";
import { AppLink, Problem, StatusBadge, usePoll } from "../components";

const GLOBAL = "registry-wide";

function groups(steps: Step[]): [string, Step[]][] {
  const by = new Map<string, Step[]>();
  for (const step of steps) {
    const key = step.region ?? GLOBAL;
    by.set(key, [...(by.get(key) ?? []), step]);
  }
  return [...by.entries()].sort(([a], [b]) => (a === GLOBAL ? -1 : b === GLOBAL ? 1 : a.localeCompare(b)));
}

export default function OperationPage({ id }: { id: string }) {
  const [operation, setOperation] = useState<Operation | null>(null);
  const [error, setError] = useState<unknown>(null);
  usePoll(
    async () => {
      try {
        const found = await get<Operation>(`/api/operations/${encodeURIComponent(id)}`);
        setOperation(found);
        setError(null);
        return TERMINAL.has(found.status);
      } catch (e) {
        setError(e);
        return true;
      }
    },
    1000,
    [id],
  );
  if (error) return <Problem error={error} />;
  if (!operation) return <Spinner label="Loading the operation" />;
  const final = TERMINAL.has(operation.status);
  return (
    <section aria-labelledby="operation-title" style={{ display: "grid", gap: 16 }}>
      <Title2 as="h1" id="operation-title">
        {`${operation.kind} of ${operation.registry}`}
      </Title2>
      <div style={{ display: "flex", gap: 12, alignItems: "center", flexWrap: "wrap" }}>
        <span data-testid="operation-status" aria-live="polite">
          <StatusBadge status={operation.status} />
        </span>
        {!final && <Spinner size="tiny" label="Updating live" />}
        <Text>
          Operation <code>{operation.id}</code>, requested by {operation.requestedBy?.name ?? "unknown"}
        </Text>
        <AppLink to={`/registries/${encodeURIComponent(operation.registry)}`}>Open the registry</AppLink>
        {operation.ticket && <TicketLink ticket={operation.ticket} />}
      </div>
      {operation.error && (
        <MessageBar intent="error">
          <MessageBarBody>
            <MessageBarTitle>{operation.error.code}</MessageBarTitle>
            {operation.error.message}
          </MessageBarBody>
        </MessageBar>
      )}
      {operation.steps.length === 0 && <Text>No steps were needed.</Text>}
      {groups(operation.steps).map(([region, steps]) => (
        <Card key={region} data-testid={`region-${region}`}>
          <CardHeader header={<h2 style={{ margin: 0, fontSize: 16 }}>{region}</h2>} />
          <Table aria-label={`Steps in ${region}`} size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Step</TableHeaderCell>
                <TableHeaderCell>State</TableHeaderCell>
                <TableHeaderCell>Attempts</TableHeaderCell>
                <TableHeaderCell>Resource</TableHeaderCell>
                <TableHeaderCell>Last error</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {steps.map((s) => (
                <TableRow key={s.step}>
                  <TableCell>{`${s.goal} ${s.kind}${s.index ? ` #${s.index}` : ""}`}</TableCell>
                  <TableCell>
                    <StatusBadge status={s.state} />
                  </TableCell>
                  <TableCell>{s.attempts}</TableCell>
                  <TableCell>{s.resource ?? ""}</TableCell>
                  <TableCell>{s.lastError ?? ""}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      ))}
    </section>
  );
}

/** The ticket that requested the operation, by its name. `ticket.url` is the API's own address for it
 * (`/api/tickets/{source}/{key}`), which needs the bearer token a plain link does not carry: the link fetches it
 * and shows it here (status, message, the operations it made). A tracker's absolute address opens as a link. */
function TicketLink({ ticket }: { ticket: NonNullable<Operation["ticket"]> }) {
  const label = ticket.display || ticket.key;
  const [shown, setShown] = useState<TicketDocument | null>(null);
  const [error, setError] = useState<unknown>(null);
  const api = ticket.url.startsWith("/api/");
  const open = async () => {
    try {
      setShown(shown ? null : await get<TicketDocument>(ticket.url));
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div data-testid="operation-ticket" style={{ display: "grid", gap: 4 }}>
      <Text>
        Requested by {ticket.source} ticket{" "}
        {api || !ticket.url ? (
          <Link
            href={ticket.url || undefined}
            aria-expanded={shown !== null}
            onClick={(event) => {
              event.preventDefault();
              void open();
            }}
          >
            {label}
          </Link>
        ) : (
          <Link href={ticket.url} target="_blank" rel="noreferrer">
            {label}
          </Link>
        )}
      </Text>
      <Problem error={error} />
      {shown && (
        <Table aria-label={`Ticket ${label}`} size="small" data-testid="ticket-details">
          <TableBody>
            <TableRow>
              <TableCell>Status</TableCell>
              <TableCell>
                <StatusBadge status={shown.status} />
              </TableCell>
            </TableRow>
            <TableRow>
              <TableCell>Message</TableCell>
              <TableCell>{shown.message}</TableCell>
            </TableRow>
            <TableRow>
              <TableCell>Operations</TableCell>
              <TableCell>
                {shown.operations
                  .filter((o) => o.operation)
                  .map((o) => (
                    <span key={o.operation} style={{ marginRight: 8 }}>
                      {`${o.action.split(":")[0]}: `}
                      <AppLink to={`/operations/${encodeURIComponent(o.operation?.split("/").pop() ?? "")}`}>
                        {o.operation?.split("/").pop()}
                      </AppLink>
                    </span>
                  ))}
              </TableCell>
            </TableRow>
            <TableRow>
              <TableCell>Updated</TableCell>
              <TableCell>{shown.updatedAt}</TableCell>
            </TableRow>
          </TableBody>
        </Table>
      )}
    </div>
  );
}

interface TicketDocument {
  source: string;
  key: string;
  display: string;
  status: string;
  message: string;
  operations: { action: string; operation: string | null }[];
  updatedAt: string;
}
