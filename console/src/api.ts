// The public HTTP API, and nothing else. Errors are RFC 9457 problem details: 401 signs in again, 403 carries
// the missing action in ARM's words, 422 lists `errors` with the field paths the forms show them next to.
import { signIn, token } from "./auth";

export interface FieldProblem {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(detail);
  }

  /** The action a 403 names ("does not have authorization to perform action '...'"). */
  get missingAction(): string | null {
    return /perform action '([^']+)'/.exec(this.detail)?.[1] ?? null;
  }

  fieldError(path: string): string | undefined {
    return this.errors.find((e) => e.field === path)?.message;
  }
}

export async function call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${await token()}`, Accept: "application/json" };
  let payload: string | undefined;
  if (body !== undefined) {
    headers["Content-Type"] = contentType ?? "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401) {
    await signIn();
    throw new ApiError(401, "AuthenticationRequired", "Your sign-in has expired; signing in again.");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) {
    throw new ApiError(response.status, data.code ?? "HttpError", data.detail ?? response.statusText, data.errors ?? []);
  }
  return data as T;
}

export const get = <T>(path: string) => call<T>("GET", path);

// --- the API's documents ---------------------------------------------------------------------------------

export interface StorageConfig {
  storage_account_type?: string;
  storage_account_hns?: boolean;
  replication_count?: number;
}
export interface RegionSpec {
  location: string;
  storage_config?: StorageConfig;
  [key: string]: unknown;
}
export interface RegistrySpec {
  name: string;
  description?: string;
  tags?: Record<string, string>;
  location: string;
  replication_locations: RegionSpec[];
  [key: string]: unknown;
}
export interface Registry {
  name: string;
  spec: RegistrySpec;
  status: string;
  reconcilePolicy: "manage" | "observe" | "skip";
  generation: number;
  observedGeneration: number;
  operation: string;
  resources: Record<string, unknown>;
  drift: { resource: string; field: string; desired: string; actual: string }[];
  observedAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface Step {
  step: string;
  kind: string;
  goal: string;
  region: string | null;
  index: number;
  state: string;
  attempts: number;
  resource: string | null;
  lastError: string | null;
  updatedAt: string;
}
export interface Operation {
  id: string;
  registry: string;
  kind: string;
  status: string;
  createdAt: string;
  updatedAt: string;
  requestedBy: { id: string; name: string; type: string } | null;
  steps: Step[];
  error?: { code: string; message: string };
  /** The ticket that requested the operation (issue 11's tickets), when one did. */
  ticket?: { source: string; key: string; display: string; url: string };
}
export interface Accepted {
  operation: string;
  id: string;
  status: string;
  warnings: string[];
}
export interface Region {
  name: string;
  displayName: string;
}
export interface RoleDefinition {
  id: string;
  name: string;
  properties: {
    roleName: string;
    description: string;
    type: string;
    permissions: { actions: string[]; notActions: string[] }[];
    assignableScopes: string[];
  };
}
export interface RoleAssignment {
  id: string;
  name: string;
  properties: {
    scope: string;
    principalId: string;
    principalType: string;
    roleDefinitionId: string;
    roleName: string | null;
    createdOn: string | null;
    dataPlane: { state: string; operation: string | null };
  };
}
export interface ActivityEntry {
  time: string;
  principal: { id: string; name: string; type: string } | null;
  action: string;
  scope: string;
  result: string;
  operation: string | null;
  detail: string | null;
}

export const TERMINAL = new Set(["Succeeded", "Failed", "Canceled"]);
