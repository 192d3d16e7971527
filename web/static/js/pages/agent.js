// agent.js: the agent desk. For now the header and the place where offered calls will ring.

import { startShell, showPageError } from '../shell.js';

startShell().catch(showPageError);
