// What the signed-in principal may do over a scope, from GET /api/permissions (ARM's actions/notActions), with
// Azure's matching: case-insensitive, `*` matches any run of characters. Used to disable what would be refused;
// the API still decides.
import { useEffect, useState } from "react";
import { get } from "./api";

export const Actions = {
  registriesWrite: "Microsoft.MachineLearningServices/registries/write",
  registriesDelete: "Microsoft.MachineLearningServices/registries/delete",
  assignmentsWrite: "Microsoft.Authorization/roleAssignments/write",
  assignmentsDelete: "Microsoft.Authorization/roleAssignments/delete",
  definitionsWrite: "Microsoft.Authorization/roleDefinitions/write",
  assetsWrite: "Microsoft.MachineLearningServices/registries/assets/write",
} as const;

interface Permission {
  actions: string[];
  notActions: string[];
}

function matches(pattern: string, action: string): boolean {
  const source = pattern.split("*").map((piece) => piece.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`, "i").test(action);
}

export function permits(permissions: Permission[], action: string): boolean {
  return permissions.some(
    (p) => p.actions.some((a) => matches(a, action)) && !p.notActions.some((n) => matches(n, action)),
  );
}

export interface Can {
  (action: string): boolean;
  ready: boolean;
}

/** `can(action)` over `scope`; false while loading (`can.ready` false) and when the caller may not even read there. */
export function usePermissions(scope: string): Can {
  const [permissions, setPermissions] = useState<Permission[] | null>(null);
  useEffect(() => {
    let live = true;
    get<{ value: Permission[] }>(`/api/permissions?scope=${encodeURIComponent(scope)}`)
      .then((found) => live && setPermissions(found.value))
      .catch(() => live && setPermissions([]));
    return () => {
      live = false;
    };
  }, [scope]);
  return Object.assign((action: string) => permits(permissions ?? [], action), { ready: permissions !== null });
}
