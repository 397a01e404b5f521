import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App";
import { startAuth } from "./auth";
import { SignIn } from "./pages/SignIn";

const root = createRoot(document.getElementById("root")!);
const render = (node: React.ReactNode) =>
  root.render(
    <StrictMode>
      <FluentProvider theme={webLightTheme}>{node}</FluentProvider>
    </StrictMode>,
  );

startAuth()
  .then((account) => render(account ? <App account={account} /> : <SignIn />))
  .catch((error: unknown) => render(<SignIn error={error} />));
