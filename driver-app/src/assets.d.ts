/** CSS imported for its side effect; esbuild bundles it into the app's stylesheet. */
declare module "*.css" {}
