// "Promote to another registry", on a version's details (part of the Assets tab's chunk): a picker of the
// registries the caller can read other than this one, each marked by whether the caller's roles include
// registries/assets/write there (GET /api/permissions), and POST .../versions/{v}/promote on the chosen target
// with this version as the source. A running promotion leads to its operation page; one that ended at once
// (same content already there, or refused by the service) and a refused request (403, 409, 422) are told in
// the dialog, next to the control.
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Spinner,
  Text,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { ApiError, type Registry, call, get } from "../api";
import { AppLink, Problem } from "../components";
import { Actions, permits } from "../permissions";
import { navigate } from "../router";
import type { AssetVersion } from "./Assets";

interface Candidate {
  name: string;
  writable: boolean;
}
export interface PromotionDocument {
  id: string;
  source: string;
  target: string;
  status: string;
  operation: string | null;
  error?: { code: string; message: string };
}

/** The registries the caller can read, other than `here`, and whether they may write assets in each. */
function useCandidates(here: string): Candidate[] | null {
  const [found, setFound] = useState<Candidate[] | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const registries = (await get<{ value: Registry[] }>("/api/registries")).value
        .map((r) => r.name)
        .filter((n) => n.toLowerCase() !== here.toLowerCase())
        .sort((a, b) => a.localeCompare(b));
      const candidates = await Promise.all(
        registries.map(async (name) => {
          const scope = encodeURIComponent(`/registries/${name}`);
          const permissions = await get<{ value: { actions: string[]; notActions: string[] }[] }>(
            `/api/permissions?scope=${scope}`,
          ).catch(() => ({ value: [] }));
          return { name, writable: permits(permissions.value, Actions.assetsWrite) };
        }),
      );
      if (live) setFound(candidates);
    })().catch(() => live && setFound([]));
    return () => {
      live = false;
    };
  }, [here]);
  return found;
}

export function Promote({ version, registry, type }: { version: AssetVersion; registry: string; type: string }) {
  const candidates = useCandidates(registry);
  const [open, setOpen] = useState(false);
  const [target, setTarget] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [ended, setEnded] = useState<PromotionDocument | null>(null);
  const [next, setNext] = useState<string | null>(null);
  // leave for the operation page only once the dialog has closed and let go of the page (#root no longer
  // aria-hidden, at most 2 s): a modal dialog unmounted while open, or before its focus manager has given the
  // page back, leaves the rest of the page aria-hidden for good
  useEffect(() => {
    if (next === null || open) return;
    const since = performance.now();
    let frame = 0;
    const go = () => {
      const hidden = document.getElementById("root")?.getAttribute("aria-hidden") === "true";
      if (hidden && performance.now() - since < 2000) frame = window.requestAnimationFrame(go);
      else navigate(next);
    };
    frame = window.requestAnimationFrame(go);
    return () => window.cancelAnimationFrame(frame);
  }, [next, open]);
  const writable = (candidates ?? []).filter((c) => c.writable);
  const reason =
    candidates === null
      ? "Finding the registries you can promote to…"
      : candidates.length === 0
        ? "There is no other registry you can read."
        : writable.length === 0
          ? `Your roles include ${Actions.assetsWrite} in none of the other registries you can read.`
          : version.status !== "Available"
            ? `Only an Available version can be promoted; this one is ${version.status}.`
            : null;

  const promote = async () => {
    setBusy(true);
    setError(null);
    setEnded(null);
    try {
      const path = `/api/registries/${encodeURIComponent(target)}/${type}/${encodeURIComponent(version.name)}/versions/${encodeURIComponent(version.version)}/promote`;
      const made = await call<PromotionDocument>("POST", path, { source: version.id });
      if (made.operation && made.status !== "Failed") {
        setOpen(false);
        setNext(`/operations/${encodeURIComponent(made.operation.split("/").pop() ?? "")}`);
        return;
      }
      setEnded(made);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ display: "grid", gap: 4 }}>
      <h3 style={{ fontSize: 14, margin: 0 }}>Promote to another registry</h3>
      <div style={{ display: "flex", gap: 8, alignItems: "center", flexWrap: "wrap" }}>
        <Button
          size="small"
          disabled={reason !== null}
          aria-describedby={reason ? "promote-reason" : undefined}
          onClick={() => {
            setTarget(writable[0]?.name ?? "");
            setError(null);
            setEnded(null);
            setOpen(true);
          }}
        >
          Promote to another registry
        </Button>
        {reason && (
          <Text size={200} id="promote-reason" data-testid="promote-reason">
            {reason}
          </Text>
        )}
      </div>
      <Dialog open={open} onOpenChange={(_, data) => setOpen(data.open)} surfaceMotion={null}>
        <DialogSurface aria-describedby="promote-what">
          <DialogBody>
            <DialogTitle>{`Promote ${version.name} version ${version.version}`}</DialogTitle>
            <DialogContent style={{ display: "grid", gap: 12 }}>
              <Text id="promote-what">
                Copies <code style={{ wordBreak: "break-all" }}>{version.id}</code> server-side into every region of
                the registry you choose, as {version.name} version {version.version}, with its lineage in the
                target version's properties.
              </Text>
              <Field
                label="Target registry"
                hint="Registries you can read; those where your roles lack assets/write cannot be chosen."
              >
                <Select value={target} onChange={(_, data) => setTarget(data.value)} data-testid="promote-target">
                  {(candidates ?? []).map((c) => (
                    <option key={c.name} value={c.name} disabled={!c.writable}>
                      {c.writable ? c.name : `${c.name} (no assets/write)`}
                    </option>
                  ))}
                </Select>
              </Field>
              <Text size={200}>
                The CLI's words for it:{" "}
                <code>
                  regctl {type === "data" ? "data" : type.replace(/s$/, "")} promote --from {registry} --to{" "}
                  {target || "TARGET"} --name {version.name} --version {version.version} --wait
                </code>
              </Text>
              <div data-testid="promote-problem">
                <PromoteProblem error={error} />
                {ended && <Ended promotion={ended} target={target} />}
              </div>
            </DialogContent>
            <DialogActions>
              <Button appearance="secondary" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button appearance="primary" disabled={!target || busy} onClick={() => void promote()}>
                {busy ? <Spinner size="tiny" label="Promoting" /> : "Promote"}
              </Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </div>
  );
}

/** A refused promotion request: the problem, and a 422's field errors by their paths. */
function PromoteProblem({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <>
      <Problem error={error} />
      {error instanceof ApiError && error.errors.length > 0 && (
        <ul>
          {error.errors.map((e) => (
            <li key={e.field + e.message}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** A promotion that ended when asked: Succeeded without a copy (the same content is there), or Failed. */
function Ended({ promotion, target }: { promotion: PromotionDocument; target: string }) {
  const failed = promotion.status === "Failed" || promotion.status === "Rejected";
  return (
    <MessageBar intent={failed ? "error" : "success"} role="alert" layout="multiline">
      <MessageBarBody>
        <MessageBarTitle>{`Promotion ${promotion.status}`}</MessageBarTitle>
        {promotion.error
          ? `${promotion.error.code}: ${promotion.error.message}`
          : `${promotion.target} already has this content. `}
        {!failed && (
          <AppLink to={`/registries/${encodeURIComponent(target)}?tab=assets`}>Open the target's assets</AppLink>
        )}
      </MessageBarBody>
    </MessageBar>
  );
}
