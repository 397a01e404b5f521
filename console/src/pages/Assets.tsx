// The Assets tab (loaded on demand): models, data, components and environments with their versions, a
// version × region matrix of replication states from the ledger (polled every 2 s while a version is
// Creating or a copy is on its way, every 10 s otherwise), a version's details, and download per region:
// POST .../download gives a read SAS for that region's copy and the file list, offered as one link per file.
// A version's details offer "Promote to another registry" (./Promote.tsx, POST .../promote on the target).
import {
  Badge,
  type BadgeProps,
  Button,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Switch,
  Tab,
  TabList,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from "@fluentui/react-components";
import { useEffect, useRef, useState } from "react";
import { ApiError, type Registry, call, get } from "../api";
import { Problem, StatusBadge } from "../components";
import { Promote } from "./Promote";

const TYPES = [
  ["models", "Models"],
  ["data", "Data"],
  ["components", "Components"],
  ["environments", "Environments"],
] as const;
type AssetType = (typeof TYPES)[number][0];

interface RegionCopy {
  state: "Pending" | "Copying" | "Replicated" | "Failed";
  uri: string | null;
  files: number;
  bytes: number;
  error: string | null;
}
export interface AssetVersion {
  id: string;
  type: string;
  name: string;
  version: string;
  description: string | null;
  tags: Record<string, string>;
  properties: Record<string, string>;
  status: "Creating" | "Available" | "Failed" | "Deleting";
  isArchived: boolean;
  createdBy: { id: string; name: string; type: string } | null;
  createdAt: string;
  updatedAt: string;
  fileCount: number;
  bytes: number;
  contentDigest: string;
  replication: Record<string, RegionCopy>;
  operation?: string;
  error?: { code: string; message: string };
  [field: string]: unknown;
}
interface Container {
  name: string;
  latestVersion: string;
  versions: number;
}
interface Download {
  region: string;
  blobUri: string;
  credential: { credentialType: string; sasUri: string };
  files: { path: string; size: number; md5: string }[];
}

// keys of a version document shown elsewhere than under "Fields"
const SHOWN = new Set([
  "id", "registry", "type", "name", "version", "description", "tags", "properties", "status", "isArchived",
  "createdBy", "createdAt", "updatedAt", "fileCount", "bytes", "contentDigest", "replication", "operation", "error",
]);
const COPY_COLORS: Record<string, BadgeProps["color"]> = {
  Replicated: "success",
  Copying: "brand",
  Pending: "informative",
  Failed: "danger",
};

export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const settled = (v: AssetVersion) =>
  v.status !== "Creating" &&
  v.status !== "Deleting" &&
  Object.values(v.replication).every((c) => c.state === "Replicated" || c.state === "Failed");

/** The regions of the registry, the primary first, and any the ledger still names. */
function regionsOf(registry: Registry, versions: AssetVersion[]): string[] {
  const regions = [registry.spec.location, ...registry.spec.replication_locations.map((l) => l.location)];
  for (const v of versions) regions.push(...Object.keys(v.replication));
  return [...new Set(regions.map((r) => r.toLowerCase()))];
}

export default function Assets({ registry }: { registry: Registry }) {
  const [type, setType] = useState<AssetType>("models");
  const [archived, setArchived] = useState(false);
  const [assets, setAssets] = useState<Record<string, AssetVersion[]> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<{ name: string; version: string } | null>(null);
  const base = `/api/registries/${encodeURIComponent(registry.name)}/${type}`;
  const query = archived ? "?includeArchived=true" : "";

  const latest = useRef({ base, query });
  latest.current = { base, query };
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    setAssets(null);
    const tick = async () => {
      let busy = false;
      try {
        const list = await get<{ value: Container[] }>(base + query);
        const found: Record<string, AssetVersion[]> = {};
        await Promise.all(
          list.value.map(async (c) => {
            const versions = await get<{ value: AssetVersion[] }>(`${base}/${encodeURIComponent(c.name)}/versions${query}`);
            found[c.name] = versions.value.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
          }),
        );
        busy = Object.values(found).some((vs) => vs.some((v) => !settled(v)));
        if (live && latest.current.base === base && latest.current.query === query) {
          setAssets(found);
          setError(null);
        }
      } catch (e) {
        if (live) setError(e);
      }
      if (live) timer = window.setTimeout(tick, busy ? 2000 : 10000);
    };
    void tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [base, query]);

  const names = assets ? Object.keys(assets).sort() : [];
  const all = names.flatMap((n) => assets?.[n] ?? []);
  const regions = regionsOf(registry, all);
  const chosen = selected ? assets?.[selected.name]?.find((v) => v.version === selected.version) : undefined;

  return (
    <div style={{ display: "grid", gap: 12 }}>
      <div style={{ display: "flex", gap: 16, alignItems: "center", flexWrap: "wrap" }}>
        <TabList
          size="small"
          aria-label="Asset type"
          selectedValue={type}
          onTabSelect={(_, d) => {
            setType(d.value as AssetType);
            setSelected(null);
          }}
        >
          {TYPES.map(([value, label]) => (
            <Tab key={value} value={value}>
              {label}
            </Tab>
          ))}
        </TabList>
        <Switch label="Show archived versions" checked={archived} onChange={(_, d) => setArchived(d.checked)} />
      </div>
      <Problem error={error} />
      {assets === null && !error && <Spinner label={`Loading ${type}`} />}
      {assets !== null && names.length === 0 && (
        <Text data-testid="no-assets">
          No {type} in this registry yet. Register one with the CLI, e.g.{" "}
          <code>
            regctl {type === "data" ? "data" : type.replace(/s$/, "")} create --registry {registry.name} -f{" "}
            {type === "data" ? "data" : type.replace(/s$/, "")}.yml --wait
          </code>
        </Text>
      )}
      {names.map((name) => (
        <Matrix
          key={name}
          name={name}
          versions={assets?.[name] ?? []}
          regions={regions}
          primary={registry.spec.location.toLowerCase()}
          selected={selected?.name === name ? selected.version : null}
          onSelect={(version) => setSelected(version === null ? null : { name, version })}
        />
      ))}
      {chosen && (
        <Details key={chosen.id} version={chosen} regions={regions} base={base} registry={registry.name} type={type} />
      )}
    </div>
  );
}

function Matrix(props: {
  name: string;
  versions: AssetVersion[];
  regions: string[];
  primary: string;
  selected: string | null;
  onSelect: (version: string | null) => void;
}) {
  const { name, versions, regions, primary, selected, onSelect } = props;
  return (
    <section aria-labelledby={`asset-${name}`} style={{ display: "grid", gap: 4 }}>
      <h2 id={`asset-${name}`} style={{ fontSize: 16, margin: 0 }}>
        {name}
      </h2>
      <Table aria-label={`Replication of ${name} by version and region`} size="small" data-testid={`matrix-${name}`}>
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Version</TableHeaderCell>
            <TableHeaderCell>Status</TableHeaderCell>
            {regions.map((r) => (
              <TableHeaderCell key={r}>{r === primary ? `${r} (primary)` : r}</TableHeaderCell>
            ))}
          </TableRow>
        </TableHeader>
        <TableBody>
          {versions.map((v) => (
            <TableRow key={v.version} data-testid={`version-${name}-${v.version}`}>
              <TableCell>
                <Button
                  size="small"
                  appearance={selected === v.version ? "primary" : "subtle"}
                  aria-pressed={selected === v.version}
                  aria-label={`Details of ${name} version ${v.version}`}
                  onClick={() => onSelect(selected === v.version ? null : v.version)}
                >
                  {v.version}
                </Button>
                {v.isArchived && (
                  <Badge appearance="outline" color="subtle" style={{ marginLeft: 4 }}>
                    Archived
                  </Badge>
                )}
              </TableCell>
              <TableCell>
                <StatusBadge status={v.status} />
              </TableCell>
              {regions.map((r) => {
                const copy = v.replication[r];
                const state = copy?.state ?? "Absent";
                const detail = copy
                  ? `${copy.files} of ${v.fileCount} files, ${bytes(copy.bytes)} of ${bytes(v.bytes)}${copy.error ? `: ${copy.error}` : ""}`
                  : "no copy is planned in this region";
                return (
                  <TableCell key={r} data-testid={`copy-${name}-${v.version}-${r}`} title={detail}>
                    <Badge appearance="tint" color={COPY_COLORS[state] ?? "subtle"}>
                      {state}
                    </Badge>
                    {copy?.state === "Copying" && <Text size={200}>{` ${copy.files}/${v.fileCount} files`}</Text>}
                  </TableCell>
                );
              })}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </section>
  );
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function Details(props: { version: AssetVersion; regions: string[]; base: string; registry: string; type: string }) {
  const { version, regions, base, registry, type } = props;
  const [download, setDownload] = useState<Download | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const rows: [string, string][] = [
    ["Id", version.id],
    ["Status", version.status],
    ["Type", version.type],
    ["Description", version.description ?? ""],
    ["Tags", Object.entries(version.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")],
    ["Properties", Object.entries(version.properties ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")],
    ...Object.entries(version)
      .filter(([k, v]) => !SHOWN.has(k) && v !== null && v !== undefined)
      .map(([k, v]): [string, string] => [k, show(v)]),
    ["Files", `${version.fileCount} files, ${bytes(version.bytes)}`],
    ["Created by", version.createdBy ? `${version.createdBy.name} (${version.createdBy.type})` : "unknown"],
    ["Created", version.createdAt],
    ["Archived", version.isArchived ? "yes" : "no"],
  ];
  if (version.error) rows.push(["Error", `${version.error.code}: ${version.error.message}`]);
  const fetchLinks = async (region: string) => {
    setBusy(region);
    try {
      const path = `${base}/${encodeURIComponent(version.name)}/versions/${encodeURIComponent(version.version)}`;
      setDownload(await call<Download>("POST", `${path}/download?region=${encodeURIComponent(region)}`));
      setError(null);
    } catch (e) {
      setDownload(null);
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const sas = download ? download.credential.sasUri.split("?")[1] ?? "" : "";
  const fileUrl = (path: string) =>
    `${download?.blobUri}${path.split("/").map(encodeURIComponent).join("/")}?${sas}`;
  return (
    <section aria-labelledby="version-title" style={{ display: "grid", gap: 8 }} data-testid="version-details">
      <h2 id="version-title" style={{ fontSize: 16, margin: 0 }}>
        {version.name} version {version.version}
      </h2>
      <Table aria-label="Version details" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Property</TableHeaderCell>
            <TableHeaderCell>Value</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map(([k, v]) => (
            <TableRow key={k}>
              <TableCell>{k}</TableCell>
              <TableCell data-testid={`detail-${k}`}>
                <span style={{ wordBreak: "break-all" }}>{v}</span>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <h3 style={{ fontSize: 14, margin: 0 }}>Download per region</h3>
      <div style={{ display: "flex", gap: 8, flexWrap: "wrap" }}>
        {regions.map((r) => {
          const state = version.replication[r]?.state;
          return (
            <Button
              key={r}
              size="small"
              disabled={busy !== null}
              onClick={() => void fetchLinks(r)}
              aria-label={`Download from ${r}`}
            >
              {state === "Replicated" ? `Download from ${r}` : `Download from ${r} (${state ?? "no copy"})`}
            </Button>
          );
        })}
      </div>
      <DownloadProblem error={error} />
      {download && (
        <div data-testid="download-links" style={{ display: "grid", gap: 4 }}>
          <Text>
            The copy in <strong>{download.region}</strong>: links carry a read-only SAS that expires; ask again for
            fresh ones. The folder: <code style={{ wordBreak: "break-all" }}>{download.blobUri}</code>
          </Text>
          <Table aria-label={`Files in ${download.region}`} size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>File</TableHeaderCell>
                <TableHeaderCell>Size</TableHeaderCell>
                <TableHeaderCell>Content-MD5</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {download.files.map((f) => (
                <TableRow key={f.path}>
                  <TableCell>
                    <Link href={fileUrl(f.path)} download={f.path.split("/").pop()} target="_blank" rel="noreferrer">
                      {f.path}
                    </Link>
                  </TableCell>
                  <TableCell>{bytes(f.size)}</TableCell>
                  <TableCell>
                    <code>{f.md5}</code>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </div>
      )}
      <Promote version={version} registry={registry} type={type} />
    </section>
  );
}

/** A refused download in words: 409 CopyNotReady (that region's copy is not verified yet), 403 (a missing action). */
function DownloadProblem({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 409 && error.code === "CopyNotReady") {
    return (
      <MessageBar intent="warning" role="alert" layout="multiline" data-testid="copy-not-ready">
        <MessageBarBody>
          <MessageBarTitle>This region's copy is not ready</MessageBarTitle>
          A region can be downloaded from once its copy is Replicated (every file verified by size and
          Content-MD5). The matrix above updates as the copy goes on; try another region meanwhile. {error.detail}
        </MessageBarBody>
      </MessageBar>
    );
  }
  return <Problem error={error} />;
}
