// Sign-in with MSAL (authorization code with PKCE) against the authority /console/config.json names: Entra ID
// in Azure, the Entra stand-in in the sandbox. The same code path in both.
import {
  type AccountInfo,
  InteractionRequiredAuthError,
  PublicClientApplication,
} from "@azure/msal-browser";

export interface ConsoleConfig {
  clientId: string;
  authority: string;
  scopes: string[];
}

const RETURN_TO = "regctl.returnTo";
let app: PublicClientApplication | null = null;
let config: ConsoleConfig | null = null;

export const base = "/console";

export async function startAuth(): Promise<AccountInfo | null> {
  const response = await fetch(`${base}/config.json`, { cache: "no-store" });
  config = (await response.json()) as ConsoleConfig;
  if (!config.clientId) throw new Error("The console has no app registration: set REGCTL_CONSOLE_CLIENT_ID.");
  app = new PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: [new URL(config.authority).host],
      redirectUri: `${window.location.origin}${base}/`,
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  await app.initialize();
  const result = await app.handleRedirectPromise();
  if (result?.account) {
    app.setActiveAccount(result.account);
    const back = sessionStorage.getItem(RETURN_TO);
    sessionStorage.removeItem(RETURN_TO);
    if (back && back !== window.location.pathname) window.history.replaceState(null, "", back);
  }
  const account = app.getActiveAccount() ?? app.getAllAccounts()[0] ?? null;
  if (account) app.setActiveAccount(account);
  return account;
}

export async function signIn(): Promise<void> {
  if (!app || !config) return;
  sessionStorage.setItem(RETURN_TO, window.location.pathname + window.location.search);
  await app.loginRedirect({ scopes: config.scopes, prompt: "select_account" });
}

export async function signOut(): Promise<void> {
  if (!app) return;
  const account = app.getActiveAccount();
  sessionStorage.clear();
  if (account) await app.clearCache({ account });
  window.location.assign(`${base}/`);
}

/** A bearer token for the API; signs in again (a redirect) when none can be had silently. */
export async function token(): Promise<string> {
  const account = app?.getActiveAccount();
  if (!app || !config || !account) {
    await signIn();
    throw new Error("signing in");
  }
  try {
    return (await app.acquireTokenSilent({ scopes: config.scopes, account })).accessToken;
  } catch (error) {
    if (error instanceof InteractionRequiredAuthError || (error as { errorCode?: string }).errorCode) {
      await signIn();
    }
    throw error;
  }
}
