// The Regions step: a searchable picker (display names shown, ARM names sent), the primary and additional
// regions, and per region the storage type, hierarchical namespace and replication_count. The registry page's
// region add and remove use it too, with the primary locked (it cannot change after creation).
import {
  Button,
  Combobox,
  Dropdown,
  Field,
  Option,
  SpinButton,
  Switch,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
} from "@fluentui/react-components";
import { useEffect, useState } from "react";
import { type Region, get } from "../api";
import { type RegionDraft, STORAGE_TYPES, newRegion } from "./draft";

let catalog: Promise<Region[]> | null = null;
export function useRegions(): Region[] {
  const [regions, setRegions] = useState<Region[]>([]);
  useEffect(() => {
    catalog ??= get<{ value: Region[] }>("/api/regions").then((r) => r.value);
    catalog.then(setRegions).catch(() => (catalog = null));
  }, []);
  return regions;
}

function RegionPicker(props: {
  label: string;
  regions: Region[];
  exclude: string[];
  value?: string;
  error?: string;
  onPick: (name: string) => void;
}) {
  const [query, setQuery] = useState("");
  const needle = query.trim().toLowerCase();
  const options = props.regions.filter(
    (r) =>
      !props.exclude.includes(r.name) &&
      (r.displayName.toLowerCase().includes(needle) || r.name.includes(needle.replace(/\s+/g, ""))),
  );
  const chosen = props.regions.find((r) => r.name === props.value);
  return (
    <Field label={props.label} validationMessage={props.error} validationState={props.error ? "error" : "none"}>
      <Combobox
        placeholder="Search regions"
        value={query || (chosen ? chosen.displayName : "")}
        selectedOptions={props.value ? [props.value] : []}
        onChange={(event) => setQuery(event.target.value)}
        onOptionSelect={(_, data) => {
          if (data.optionValue) props.onPick(data.optionValue);
          setQuery("");
        }}
      >
        {options.map((r) => (
          <Option key={r.name} value={r.name} text={r.displayName}>
            {`${r.displayName} (${r.name})`}
          </Option>
        ))}
      </Combobox>
    </Field>
  );
}

export function RegionsEditor(props: {
  regions: RegionDraft[];
  onChange: (regions: RegionDraft[]) => void;
  primaryLocked?: boolean;
  error: (path: string) => string | undefined;
}) {
  const catalogue = useRegions();
  const { regions, onChange } = props;
  const names = regions.map((r) => r.location);
  const display = (name: string) => catalogue.find((r) => r.name === name)?.displayName ?? name;
  const update = (index: number, change: Partial<RegionDraft>) =>
    onChange(regions.map((r, i) => (i === index ? { ...r, ...change } : r)));
  const setPrimary = (name: string) => {
    const rest = regions.slice(1).filter((r) => r.location !== name);
    const existing = regions.find((r) => r.location === name);
    onChange([existing ?? newRegion(name), ...rest]);
  };
  const path = (i: number, key?: string) =>
    key ? `replication_locations[${i}].storage_config.${key}` : `replication_locations[${i}].location`;

  return (
    <div style={{ display: "grid", gap: 12 }}>
      {props.primaryLocked ? (
        <Field label="Primary region" hint="The primary region cannot change after creation.">
          <span data-testid="primary-region">{`${display(names[0])} (${names[0]})`}</span>
        </Field>
      ) : (
        <RegionPicker
          label="Primary region"
          regions={catalogue}
          exclude={[]}
          value={names[0]}
          error={props.error("location")}
          onPick={setPrimary}
        />
      )}
      <RegionPicker
        label="Add a region"
        regions={catalogue}
        exclude={names}
        error={props.error("replication_locations")}
        onPick={(name) => onChange(regions.length ? [...regions, newRegion(name)] : [newRegion(name)])}
      />
      <Table aria-label="Regions of the registry" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Region</TableHeaderCell>
            <TableHeaderCell>Storage account type</TableHeaderCell>
            <TableHeaderCell>Hierarchical namespace</TableHeaderCell>
            <TableHeaderCell>Storage accounts</TableHeaderCell>
            <TableHeaderCell>
              Actions
            </TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {regions.map((r, i) => (
            <TableRow key={r.location} data-testid={`region-row-${r.location}`}>
              <TableCell>
                {display(r.location)} <small>({r.location})</small> {i === 0 ? <strong> · primary</strong> : null}
                {props.error(path(i)) ? <div role="alert">{props.error(path(i))}</div> : null}
              </TableCell>
              <TableCell>
                <Dropdown
                  style={{ minWidth: 0, width: "100%" }}
                  aria-label={`Storage account type in ${r.location}`}
                  value={r.storageType}
                  selectedOptions={[r.storageType]}
                  onOptionSelect={(_, data) => data.optionValue && update(i, { storageType: data.optionValue })}
                >
                  {STORAGE_TYPES.map((t) => (
                    <Option key={t} value={t}>
                      {t}
                    </Option>
                  ))}
                </Dropdown>
              </TableCell>
              <TableCell>
                <Switch
                  aria-label={`Hierarchical namespace in ${r.location}`}
                  checked={r.hns}
                  onChange={(_, data) => update(i, { hns: data.checked })}
                />
              </TableCell>
              <TableCell>
                <Field
                  validationMessage={props.error(path(i, "replication_count"))}
                  validationState={props.error(path(i, "replication_count")) ? "error" : "none"}
                >
                  <SpinButton
                    aria-label={`replication_count in ${r.location}`}
                    min={1}
                    max={10}
                    value={r.replicationCount}
                    onChange={(_, data) => {
                      const next = data.value ?? Number(data.displayValue);
                      if (Number.isInteger(next)) update(i, { replicationCount: next as number });
                    }}
                  />
                </Field>
              </TableCell>
              <TableCell>
                <Button
                  aria-label={`Remove ${r.location}`}
                  disabled={i === 0}
                  onClick={() => onChange(regions.filter((_, j) => j !== i))}
                >
                  Remove
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </div>
  );
}
