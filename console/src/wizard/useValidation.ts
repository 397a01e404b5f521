// Live validation through POST /api/registries/validate (the API's own rules; it stores nothing).
import { useEffect, useState } from "react";
import { ApiError, type FieldProblem, call } from "../api";
import type { RegistrySpec } from "../api";

export interface Validation {
  errors: FieldProblem[];
  warnings: string[];
  checked: boolean;
}

export async function validate(doc: RegistrySpec): Promise<Validation> {
  try {
    const answer = await call<{ warnings: string[] }>("POST", "/api/registries/validate", doc);
    return { errors: [], warnings: answer.warnings, checked: true };
  } catch (error) {
    if (error instanceof ApiError && error.errors.length) return { errors: error.errors, warnings: [], checked: true };
    throw error;
  }
}

export function useValidation(doc: RegistrySpec, delayMs = 300): Validation {
  const [result, setResult] = useState<Validation>({ errors: [], warnings: [], checked: false });
  const key = JSON.stringify(doc);
  useEffect(() => {
    let live = true;
    const timer = window.setTimeout(() => {
      validate(doc)
        .then((found) => live && setResult(found))
        .catch(() => undefined);
    }, delayMs);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return result;
}

export const errorAt = (errors: FieldProblem[]) => (path: string) =>
  errors.find((e) => e.field === path)?.message;
