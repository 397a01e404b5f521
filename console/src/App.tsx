// The shell: a header with who is signed in, and the page the URL names. Pages other than the registry list
// load on demand, so the first load carries only what the list needs.
import type { AccountInfo } from "@azure/msal-browser";
import { Button, Spinner, Text, makeStyles, tokens } from "@fluentui/react-components";
import { Suspense, lazy } from "react";
import { signOut } from "./auth";
import { AppLink } from "./components";
import { Registries } from "./pages/Registries";
import { useRoute } from "./router";

const Wizard = lazy(() => import("./pages/Wizard"));
const OperationPage = lazy(() => import("./pages/Operation"));
const RegistryPage = lazy(() => import("./pages/Registry"));

const useStyles = makeStyles({
  header: {
    display: "flex",
    alignItems: "center",
    gap: "16px",
    padding: "8px 24px",
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  nav: { color: tokens.colorNeutralForegroundOnBrand, ":hover": { color: tokens.colorNeutralForegroundOnBrand } },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400, color: "inherit" },
  spacer: { flexGrow: 1 },
  main: { padding: "16px 24px", maxWidth: "1200px" },
});

export default function App({ account }: { account: AccountInfo }) {
  const styles = useStyles();
  const route = useRoute();
  return (
    <>
      <header className={styles.header}>
        <span className={styles.brand}>regctl</span>
        <nav aria-label="Main">
          <AppLink to="/" className={styles.nav}>
            Manage registries
          </AppLink>
        </nav>
        <span className={styles.spacer} />
        <Text data-testid="signed-in-as">{account.name ?? account.username}</Text>
        <Button appearance="secondary" size="small" onClick={() => void signOut()}>
          Sign out
        </Button>
      </header>
      <main className={styles.main}>
        <Suspense fallback={<Spinner label="Loading" />}>
          {route.page === "registries" && <Registries />}
          {route.page === "create" && <Wizard />}
          {route.page === "operation" && <OperationPage id={route.id} />}
          {route.page === "registry" && <RegistryPage name={route.name} tab={route.tab} />}
          {route.page === "missing" && <Text>Nothing here: {route.path}</Text>}
        </Suspense>
      </main>
    </>
  );
}
