import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".sgdlab/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", Blob: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "@jax-js/jax", message: "import jax-js through src/core/jax.ts (shims first)" }] },
      ],
    },
  },
  { files: ["src/core/jax.ts"], rules: { "no-restricted-imports": "off" } },
  { files: ["src/**/*.ts"], ignores: ["src/cli/**"], rules: { "no-console": "error" } },
);
