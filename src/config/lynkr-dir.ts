import { homedir } from "node:os";
import { join } from "node:path";

/** The user's home: HOME as configured, else the system's account entry. */
export function userHome(home: string | undefined): string {
  return home || homedir();
}

/** The folder lynkr keeps the user's files in (.env, routing file, database): ~/.lynkr. */
export function lynkrDir(home: string | undefined): string {
  return join(userHome(home), ".lynkr");
}
