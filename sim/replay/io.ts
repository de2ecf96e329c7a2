/** The replay's only file I/O: reading a scenario directory and writing the output files. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ScenarioError } from "./errors.ts";
import { SCENARIO_FILES, parseScenario } from "./scenario.ts";
import type { ScenarioTexts } from "./scenario.ts";
import type { ReplayOutput } from "./replay.ts";
import type { Scenario } from "./types.ts";

export async function loadScenario(dir: string): Promise<Scenario> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), "utf8");
    } catch (cause) {
      throw new ScenarioError(name, null, `cannot read ${join(dir, name)}`, { cause });
    }
  };
  const texts: ScenarioTexts = {
    config: await read(SCENARIO_FILES.config),
    stores: await read(SCENARIO_FILES.stores),
    couriers: await read(SCENARIO_FILES.couriers),
    orders: await read(SCENARIO_FILES.orders),
  };
  return parseScenario(texts);
}

export async function writeOutput(dir: string, output: ReplayOutput): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(output.files)) {
    await writeFile(join(dir, name), text);
  }
}
