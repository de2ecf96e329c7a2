/**
 * Builds the WeChat mini-program: tsc (customer-mini/miniprogram/tsconfig.json) into
 * `.build/tsc`, then assembles `.build/dist`, one self-contained mini-program root: the
 * compiled pages, components and lib, the compiled shared logic as `dist/shared`, and the
 * .json/.wxml/.wxss/.png files beside them. Open project.config.json in WeChat DevTools, or
 * load `dist/...` with miniprogram-simulate.
 *
 * Run: node --import tsx customer-mini/scripts/build-miniprogram.ts
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const MINIPROGRAM_DIR = resolve(HERE, "../miniprogram");
export const MINIPROGRAM_DIST = join(MINIPROGRAM_DIR, ".build/dist");
const TSC_OUT = join(MINIPROGRAM_DIR, ".build/tsc");
const TSC_BIN = resolve(HERE, "../../node_modules/.bin/tsc");

const STATIC = /\.(json|wxml|wxss|png|jpg|svg)$/;
/** Files of the source folder that are tooling, not part of the mini-program. */
const NOT_SHIPPED = new Set(["package.json", "tsconfig.json", "project.config.json"]);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === ".build" || name === "node_modules") return [];
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** Compile and assemble; returns the mini-program root (`.build/dist`). */
export function buildMiniprogram(): string {
  rmSync(join(MINIPROGRAM_DIR, ".build"), { recursive: true, force: true });
  try {
    execFileSync(TSC_BIN, ["-p", MINIPROGRAM_DIR], { stdio: "pipe" });
  } catch (error) {
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? "";
    throw new Error(`tsc failed for the mini-program:\n${out}`, { cause: error });
  }
  cpSync(join(TSC_OUT, "customer-mini/miniprogram"), MINIPROGRAM_DIST, { recursive: true });
  cpSync(join(TSC_OUT, "customer-mini/shared"), join(MINIPROGRAM_DIST, "shared"), {
    recursive: true,
  });
  for (const file of walk(MINIPROGRAM_DIR)) {
    const rel = relative(MINIPROGRAM_DIR, file);
    if (!STATIC.test(rel) || NOT_SHIPPED.has(rel)) continue;
    cpSync(file, join(MINIPROGRAM_DIST, rel));
  }
  checkSelfContained(MINIPROGRAM_DIST);
  return MINIPROGRAM_DIST;
}

/** A mini-program cannot require outside its root nor npm packages it did not build: check. */
function checkSelfContained(root: string): void {
  for (const file of walk(root).filter((f) => f.endsWith(".js"))) {
    for (const match of readFileSync(file, "utf8").matchAll(/require\("([^"]+)"\)/g)) {
      const spec = match[1]!;
      const target = resolve(dirname(file), spec);
      if (!spec.startsWith(".") || !target.startsWith(root + sep) || !existsSync(target)) {
        throw new Error(
          `${relative(root, file)} requires ${spec}, which is not in the mini-program`,
        );
      }
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(buildMiniprogram());
}
