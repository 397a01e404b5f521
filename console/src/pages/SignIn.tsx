import { Button, Title1, Body1 } from "@fluentui/react-components";
import { Problem } from "../components";
import { signIn } from "../auth";

export function SignIn({ error }: { error?: unknown }) {
  return (
    <main style={{ maxWidth: 560, margin: "10vh auto", display: "grid", gap: 16, padding: 16 }}>
      <Title1 as="h1">regctl console</Title1>
      <Body1>Multi-region ML asset registries. Sign in with your organisation account to continue.</Body1>
      <Problem error={error} />
      <Button appearance="primary" onClick={() => void signIn()}>
        Sign in
      </Button>
    </main>
  );
}
