import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served by the Function App at /console (handlers/console_site.py); hashed assets under /console/assets.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
});
