// Removes the build output so that tests deleted from test/ do not linger as stale JavaScript in dist/.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
