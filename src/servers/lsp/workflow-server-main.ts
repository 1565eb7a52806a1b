// Entry of dist/workflow-server.cjs: the workflow language server over stdio.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { FrontmatterAgentDirectory } from './agent-directory.ts';
import { startWorkflowServer } from './workflow-server.ts';

const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
startWorkflowServer(connection, { agents: new FrontmatterAgentDirectory() });
connection.listen();
