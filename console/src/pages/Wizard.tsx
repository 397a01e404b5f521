// Create registry: Basics, Regions, Review + Create. Every control is reachable and usable with the keyboard.
import {
  Button,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Tab,
  TabList,
  Textarea,
  Title2,
} from "@fluentui/react-components";
import { useRef, useState } from "react";
import { ApiError, type Accepted, call } from "../api";
import { Problem } from "../components";
import { navigate } from "../router";
import { RegionsEditor } from "../wizard/RegionsEditor";
import { type Draft, emptyDraft, toDocument, toYaml } from "../wizard/draft";
import { errorAt, useValidation, validate } from "../wizard/useValidation";

const STEPS = ["Basics", "Regions", "Review + Create"] as const;
const stepOf = (field: string) => (field === "location" || field.startsWith("replication_locations") ? 1 : 0);

export default function Wizard() {
  const [draft, setDraftState] = useState<Draft>(emptyDraft);
  const [step, setStep] = useState(0);
  const [attempted, setAttempted] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const doc = toDocument(draft);
  const live = useValidation(doc);
  const submitted = failure instanceof ApiError ? failure.errors : [];
  const touched = attempted || step === 2 || (step === 0 ? draft.name !== "" : draft.regions.length > 0);
  const errors = [...submitted, ...(touched ? live.errors : [])];
  const shown = errors.filter(
    (e, i) =>
      (stepOf(e.field) === step || step === 2) &&
      errors.findIndex((o) => o.field === e.field && o.message === e.message) === i,
  );
  const setDraft = (changed: Draft) => {
    setDraftState(changed);
    setFailure(null);
  };
  const error = errorAt(shown);
  const yamlText = toYaml(draft);

  const go = (next: number) => {
    setStep(next);
    setFailure(null);
    setAttempted(false);
    window.setTimeout(() => heading.current?.focus(), 0);
  };
  const next = async () => {
    const checked = await validate(doc).catch(() => live);
    if (checked.errors.some((e) => stepOf(e.field) === step)) {
      setAttempted(true);
      return;
    }
    go(step + 1);
  };
  const create = async () => {
    setBusy(true);
    try {
      const accepted = await call<Accepted>("POST", "/api/registries", yamlText, "application/yaml");
      navigate(`/operations/${accepted.id}`);
    } catch (e) {
      setFailure(e);
      if (e instanceof ApiError && e.errors.length) setStep(stepOf(e.errors[0].field));
    } finally {
      setBusy(false);
    }
  };
  const download = () => {
    const url = URL.createObjectURL(new Blob([yamlText], { type: "application/yaml" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: `${draft.name || "registry"}.yml` });
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <section aria-labelledby="wizard-title" style={{ display: "grid", gap: 16, maxWidth: 900 }}>
      <Title2 as="h1" id="wizard-title">
        Create registry
      </Title2>
      <TabList selectedValue={step} onTabSelect={(_, data) => (data.value as number) < step && go(data.value as number)}>
        {STEPS.map((label, i) => (
          <Tab key={label} value={i} disabled={i > step}>
            {`${i + 1}. ${label}`}
          </Tab>
        ))}
      </TabList>
      <h2 ref={heading} tabIndex={-1} style={{ margin: 0, fontSize: 18 }}>
        {STEPS[step]}
      </h2>
      {failure && !(failure instanceof ApiError && failure.status === 422) ? <Problem error={failure} /> : null}
      {step === 0 && (
        <div style={{ display: "grid", gap: 12 }}>
          <Field
            label="Name"
            required
            hint="2-32 characters: letters, digits, - and _, starting with a letter or digit."
            validationMessage={error("name")}
            validationState={error("name") ? "error" : "none"}
          >
            <Input value={draft.name} onChange={(_, d) => setDraft({ ...draft, name: d.value })} />
          </Field>
          <Field label="Description" validationMessage={error("description")}>
            <Textarea value={draft.description} onChange={(_, d) => setDraft({ ...draft, description: d.value })} />
          </Field>
          <fieldset style={{ border: "none", padding: 0, display: "grid", gap: 8 }}>
            <legend>Tags</legend>
            {draft.tags.map((tag, i) => (
              <div key={i} style={{ display: "flex", gap: 8, alignItems: "end" }}>
                <Field label={`Tag ${i + 1} name`} validationMessage={error(`tags.${tag.key}`)}>
                  <Input
                    value={tag.key}
                    onChange={(_, d) =>
                      setDraft({ ...draft, tags: draft.tags.map((t, j) => (j === i ? { ...t, key: d.value } : t)) })
                    }
                  />
                </Field>
                <Field label={`Tag ${i + 1} value`}>
                  <Input
                    value={tag.value}
                    onChange={(_, d) =>
                      setDraft({ ...draft, tags: draft.tags.map((t, j) => (j === i ? { ...t, value: d.value } : t)) })
                    }
                  />
                </Field>
                <Button onClick={() => setDraft({ ...draft, tags: draft.tags.filter((_, j) => j !== i) })}>
                  {`Remove tag ${i + 1}`}
                </Button>
              </div>
            ))}
            <Button style={{ justifySelf: "start" }} onClick={() => setDraft({ ...draft, tags: [...draft.tags, { key: "", value: "" }] })}>
              Add tag
            </Button>
          </fieldset>
        </div>
      )}
      {step === 1 && (
        <RegionsEditor regions={draft.regions} onChange={(regions) => setDraft({ ...draft, regions })} error={error} />
      )}
      {step === 2 && (
        <div style={{ display: "grid", gap: 12 }}>
          <p style={{ margin: 0 }}>
            This is the exact YAML the console sends. The CLI takes the same file:{" "}
            <code>regctl registry create --file {draft.name || "registry"}.yml --wait</code>
          </p>
          <pre data-testid="review-yaml" aria-label="Registry YAML" tabIndex={0} style={{ background: "#f5f5f5", padding: 12, overflow: "auto" }}>
            {yamlText}
          </pre>
          {live.warnings.map((w) => (
            <MessageBar key={w} intent="warning">
              <MessageBarBody>{w}</MessageBarBody>
            </MessageBar>
          ))}
          {shown.map((e) => (
            <MessageBar key={e.field + e.message} intent="error">
              <MessageBarBody>{`${e.field}: ${e.message}`}</MessageBarBody>
            </MessageBar>
          ))}
        </div>
      )}
      <div style={{ display: "flex", gap: 8 }}>
        {step > 0 && <Button onClick={() => go(step - 1)}>Back</Button>}
        {step < 2 && (
          <Button appearance="primary" onClick={() => void next()}>
            Next
          </Button>
        )}
        {step === 2 && (
          <>
            <Button onClick={download}>Download YAML</Button>
            <Button appearance="primary" disabled={busy} onClick={() => void create()}>
              Create
            </Button>
          </>
        )}
        <Button appearance="subtle" onClick={() => navigate("/")}>
          Cancel
        </Button>
      </div>
    </section>
  );
}
