// A small history router under /console: pages are /, /create, /operations/{id}, /registries/{name}[?tab=].
import { useEffect, useState } from "react";
import { base } from "./auth";

export type Route =
  | { page: "registries" }
  | { page: "create" }
  | { page: "operation"; id: string }
  | { page: "registry"; name: string; tab: string }
  | { page: "missing"; path: string };

export function parse(pathname: string, search: string): Route {
  const path = pathname.startsWith(base) ? pathname.slice(base.length) : pathname;
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "registries" };
  if (parts.length === 1 && parts[0] === "create") return { page: "create" };
  if (parts.length === 2 && parts[0] === "operations") return { page: "operation", id: parts[1] };
  if (parts.length === 2 && parts[0] === "registries") {
    return { page: "registry", name: parts[1], tab: new URLSearchParams(search).get("tab") ?? "overview" };
  }
  return { page: "missing", path };
}

export function href(path: string): string {
  return `${base}${path}`;
}

export function navigate(path: string): void {
  window.history.pushState(null, "", href(path));
  window.dispatchEvent(new PopStateEvent("popstate"));
}

export function useRoute(): Route {
  const read = () => parse(window.location.pathname, window.location.search);
  const [route, setRoute] = useState<Route>(read);
  useEffect(() => {
    const update = () => setRoute(read());
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return route;
}
