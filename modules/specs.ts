// What each installed module adds to the language (its `spec.ts`). The compiler registers these
// at load, so `hdc check`, completion, hover, the docs and the TextMate grammar see a module's
// declarations with no module-specific code of their own. A new module adds one line here (and
// its service to modules/catalog.ts).
import type { ModuleSpec } from '../compiler/specs/module-spec.ts';
import { spec as monitoring } from './monitoring/spec.ts';
import { spec as bulk } from './bulk/spec.ts';

export const installedModuleSpecs: readonly ModuleSpec[] = [monitoring, bulk];
