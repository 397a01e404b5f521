// Small pieces every page uses: problem display, in-app links, status badges, polling.
import {
  Badge,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  type BadgeProps,
} from "@fluentui/react-components";
import { type ReactNode, useEffect, useRef } from "react";
import { ApiError } from "./api";
import { href, navigate } from "./router";

export function Problem({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    const action = error.status === 403 ? error.missingAction : null;
    const title = action ? "You are not allowed to do this" : `${error.code} (${error.status})`;
    return (
      <MessageBar intent="error" role="alert" layout="multiline">
        <MessageBarBody>
          <MessageBarTitle>{title}</MessageBarTitle>
          {action ? (
            <>
              Your roles do not include the action <code data-testid="missing-action">{action}</code>. Ask an
              Owner of this registry for a role that has it. <br />
            </>
          ) : null}
          {error.detail}
        </MessageBarBody>
      </MessageBar>
    );
  }
  return (
    <MessageBar intent="error" role="alert" layout="multiline">
      <MessageBarBody>{String((error as Error)?.message ?? error)}</MessageBarBody>
    </MessageBar>
  );
}

export function AppLink({ to, children, className }: { to: string; children: ReactNode; className?: string }) {
  return (
    <Link
      className={className}
      href={href(to)}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </Link>
  );
}

const COLORS: Record<string, BadgeProps["color"]> = {
  Succeeded: "success",
  Ready: "success",
  Applied: "success",
  Available: "success",
  Creating: "brand",
  Running: "brand",
  Accepted: "informative",
  Provisioning: "brand",
  Updating: "brand",
  Deleting: "warning",
  Pending: "informative",
  Failed: "danger",
  Canceled: "subtle",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge appearance="tint" color={COLORS[status] ?? "informative"}>
      {status}
    </Badge>
  );
}

/** Calls `tick` now and then every `ms` until it returns true (or the component goes). */
export function usePoll(tick: () => Promise<boolean>, ms: number, deps: unknown[]): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    let timer: number | undefined;
    let live = true;
    const run = async () => {
      let done = false;
      try {
        done = await latest.current();
      } catch {
        done = false;
      }
      if (live && !done) timer = window.setTimeout(run, ms);
    };
    void run();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}
