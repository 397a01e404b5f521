// The wizard's form and the registry document it becomes (docs/spec.md): the YAML shown on Review is exactly
// what is sent.
import { stringify } from "yaml";
import type { RegionSpec, RegistrySpec } from "../api";

export const STORAGE_TYPES = [
  "Standard_LRS",
  "Standard_GRS",
  "Standard_RAGRS",
  "Standard_ZRS",
  "Standard_GZRS",
  "Standard_RAGZRS",
  "Premium_LRS",
  "Premium_ZRS",
];

export interface RegionDraft {
  location: string;
  storageType: string;
  hns: boolean;
  replicationCount: number;
  extra?: Record<string, unknown>; // keys of an existing region the wizard does not edit, kept as they are
}

export interface Draft {
  name: string;
  description: string;
  tags: { key: string; value: string }[];
  regions: RegionDraft[]; // the first is the primary
  extra?: Record<string, unknown>; // keys of an existing spec the wizard does not edit, kept as they are
}

export const newRegion = (location: string): RegionDraft => ({
  location,
  storageType: "Standard_LRS",
  hns: false,
  replicationCount: 1,
});

export const emptyDraft = (): Draft => ({ name: "", description: "", tags: [], regions: [] });

export function toDocument(draft: Draft): RegistrySpec {
  const tags = draft.tags.filter((t) => t.key.trim());
  return {
    name: draft.name.trim(),
    ...(draft.description.trim() ? { description: draft.description } : {}),
    ...(tags.length ? { tags: Object.fromEntries(tags.map((t) => [t.key.trim(), t.value])) } : {}),
    location: draft.regions[0]?.location ?? "",
    ...(draft.extra ?? {}),
    replication_locations: draft.regions.map(
      (r): RegionSpec => ({
        ...(r.extra ?? {}),
        location: r.location,
        storage_config: {
          storage_account_hns: r.hns,
          storage_account_type: r.storageType,
          ...(r.replicationCount !== 1 ? { replication_count: r.replicationCount } : {}),
        },
      }),
    ),
  };
}

export const toYaml = (draft: Draft): string => stringify(toDocument(draft));

export function fromSpec(spec: RegistrySpec): Draft {
  const { name, description, tags, location, replication_locations, ...extra } = spec;
  const regions = replication_locations.map(({ location: where, storage_config, ...rest }) => ({
    location: where,
    storageType: storage_config?.storage_account_type ?? "Standard_LRS",
    hns: storage_config?.storage_account_hns ?? false,
    replicationCount: storage_config?.replication_count ?? 1,
    extra: rest,
  }));
  regions.sort((a, b) => Number(b.location === location) - Number(a.location === location));
  return {
    name,
    description: description ?? "",
    tags: Object.entries(tags ?? {}).map(([key, value]) => ({ key, value: String(value) })),
    regions,
    extra,
  };
}
