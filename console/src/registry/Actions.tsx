// What changes a registry: Sync now, the reconcile policy, regions (the wizard's Regions step), delete behind
// its typed name. Each is disabled when the caller's roles lack the action; the API decides all the same.
import {
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Option,
  Dropdown,
} from "@fluentui/react-components";
import { useState } from "react";
import { type Accepted, ApiError, type Registry, call } from "../api";
import { Problem } from "../components";
import { navigate } from "../router";
import { RegionsEditor } from "../wizard/RegionsEditor";
import { type Draft, fromSpec, toDocument } from "../wizard/draft";
import { errorAt } from "../wizard/useValidation";

const path = (registry: Registry) => `/api/registries/${encodeURIComponent(registry.name)}`;

export function RegistryActions(props: {
  registry: Registry;
  canWrite: boolean;
  canDelete: boolean;
  onChanged: () => void;
  onError: (error: unknown) => void;
}) {
  const { registry, canWrite, canDelete, onChanged, onError } = props;
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await work();
      onError(null);
      onChanged();
    } catch (error) {
      onError(error);
    } finally {
      setBusy(false);
    }
  };
  const sync = () =>
    run(async () => {
      const accepted = await call<Accepted>("POST", `${path(registry)}/sync`);
      navigate(`/operations/${accepted.id}`);
    });
  const setPolicy = (policy: string) =>
    run(() => call("PUT", `${path(registry)}/policy`, { reconcile_policy: policy }));

  return (
    <div style={{ display: "flex", gap: 8, flexWrap: "wrap", alignItems: "end" }}>
      <Button appearance="primary" disabled={busy || !canWrite} onClick={() => void sync()}>
        Sync now
      </Button>
      <Field label="Reconcile policy" orientation="horizontal">
        <Dropdown
          disabled={busy || !canWrite}
          value={registry.reconcilePolicy}
          selectedOptions={[registry.reconcilePolicy]}
          onOptionSelect={(_, data) => data.optionValue && void setPolicy(data.optionValue)}
        >
          <Option value="manage">manage</Option>
          <Option value="observe">observe</Option>
          <Option value="skip">skip</Option>
        </Dropdown>
      </Field>
      <EditRegions registry={registry} disabled={!canWrite} />
      <DeleteRegistry registry={registry} disabled={!canDelete} />
    </div>
  );
}

function EditRegions({ registry, disabled }: { registry: Registry; disabled: boolean }) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<unknown>(null);
  const save = async () => {
    if (!draft) return;
    try {
      const accepted = await call<Accepted>("PUT", path(registry), toDocument(draft));
      setDraft(null);
      navigate(`/operations/${accepted.id}`);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <Button disabled={disabled} onClick={() => (setError(null), setDraft(fromSpec(registry.spec)))}>
        Add or remove regions
      </Button>
      <Dialog open={draft !== null} onOpenChange={(_, data) => !data.open && setDraft(null)}>
      <DialogSurface style={{ maxWidth: 960 }}>
        <DialogBody>
          <DialogTitle>{`Regions of ${registry.name}`}</DialogTitle>
          <DialogContent>
            {draft && (
              <RegionsEditor
                regions={draft.regions}
                primaryLocked
                onChange={(regions) => setDraft({ ...draft, regions })}
                error={errorAt(error instanceof ApiError ? error.errors : [])}
              />
            )}
            {error && !(error instanceof ApiError && error.errors.length) ? <Problem error={error} /> : null}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setDraft(null)}>Cancel</Button>
            <Button appearance="primary" onClick={() => void save()}>
              Save regions
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
      </Dialog>
    </>
  );
}

function DeleteRegistry({ registry, disabled }: { registry: Registry; disabled: boolean }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<unknown>(null);
  const remove = async () => {
    try {
      const accepted = await call<Accepted>("DELETE", path(registry));
      setOpen(false);
      navigate(`/operations/${accepted.id}`);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <>
      <Button disabled={disabled} onClick={() => setOpen(true)}>
        Delete registry
      </Button>
      <Dialog open={open} onOpenChange={(_, data) => (setOpen(data.open), setTyped(""), setError(null))}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{`Delete ${registry.name}?`}</DialogTitle>
          <DialogContent style={{ display: "grid", gap: 12 }}>
            <span>
              Every resource of the registry in every region is torn down. Type the registry&apos;s name to confirm.
            </span>
            <Field label="Registry name">
              <Input value={typed} onChange={(_, d) => setTyped(d.value)} />
            </Field>
            <Problem error={error} />
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button appearance="primary" disabled={typed !== registry.name} onClick={() => void remove()}>
              Delete
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
      </Dialog>
    </>
  );
}
