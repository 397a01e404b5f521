// A registry: overview, resources per region, drift, history, assets and access, with its actions; refreshed every
// few seconds so a sync or a drift shows without a reload.
import { Spinner, Tab, TabList, Title2 } from "@fluentui/react-components";
import { Suspense, lazy, useState } from "react";
import { type Registry, get } from "../api";
import { Problem, StatusBadge, usePoll } from "../components";
import { Actions, usePermissions } from "../permissions";
import { navigate } from "../router";
import { RegistryActions } from "../registry/Actions";
import { Drift, History, Overview, Resources } from "../registry/Panels";

const Access = lazy(() => import("./Access"));
const Assets = lazy(() => import("./Assets"));
const TABS = [
  ["overview", "Overview"],
  ["resources", "Resources"],
  ["drift", "Drift"],
  ["history", "History"],
  ["assets", "Assets"],
  ["access", "Access"],
] as const;

export default function RegistryPage({ name, tab }: { name: string; tab: string }) {
  const [registry, setRegistry] = useState<Registry | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [refresh, setRefresh] = useState(0);
  const can = usePermissions(`/registries/${name}`);
  usePoll(
    async () => {
      try {
        setRegistry(await get<Registry>(`/api/registries/${encodeURIComponent(name)}`));
        setError(null);
      } catch (e) {
        setError(e);
      }
      return false;
    },
    3000,
    [name, refresh],
  );
  if (error && !registry) return <Problem error={error} />;
  if (!registry) return <Spinner label="Loading the registry" />;
  const drift = registry.drift.length;
  return (
    <section aria-labelledby="registry-title" style={{ display: "grid", gap: 12 }}>
      <div style={{ display: "flex", gap: 12, alignItems: "center" }}>
        <Title2 as="h1" id="registry-title">
          {registry.name}
        </Title2>
        <StatusBadge status={registry.status} />
      </div>
      <RegistryActions
        registry={registry}
        canWrite={can(Actions.registriesWrite)}
        canDelete={can(Actions.registriesDelete)}
        onChanged={() => setRefresh((n) => n + 1)}
        onError={setActionError}
      />
      <Problem error={actionError} />
      <TabList
        selectedValue={tab}
        onTabSelect={(_, data) => navigate(`/registries/${encodeURIComponent(name)}?tab=${String(data.value)}`)}
      >
        {TABS.map(([value, label]) => (
          <Tab key={value} value={value}>
            {value === "drift" && drift ? `${label} (${drift})` : label}
          </Tab>
        ))}
      </TabList>
      <div role="tabpanel" aria-label={tab}>
        {tab === "overview" && <Overview registry={registry} />}
        {tab === "resources" && <Resources registry={registry} />}
        {tab === "drift" && <Drift registry={registry} />}
        {tab === "history" && <History name={registry.name} />}
        {tab === "assets" && (
          <Suspense fallback={<Spinner label="Loading assets" />}>
            <Assets registry={registry} />
          </Suspense>
        )}
        {tab === "access" && (
          <Suspense fallback={<Spinner label="Loading access" />}>
            <Access name={registry.name} />
          </Suspense>
        )}
      </div>
    </section>
  );
}
