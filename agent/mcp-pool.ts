import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AgentTools } from './context.js';
import { mcpAgentTools } from './tools-client.js';

/**
 * The agent is an MCP client of the project's own server, connected in-process. One
 * connection per citizen, created on first use and kept (LRU-bounded), so a turn never
 * pays for a handshake or tool discovery. Each server instance is bound to its citizen's
 * identity at creation: nothing the agent sends can make it act for anyone else.
 */
export class McpToolsPool {
  private readonly entries = new Map<string, Promise<{ tools: AgentTools; close: () => Promise<void> }>>();

  constructor(
    private readonly serverFor: (citizenId: string) => Promise<McpServer> | McpServer,
    private readonly max = 2000,
  ) {}

  async forCitizen(citizenId: string): Promise<AgentTools> {
    let entry = this.entries.get(citizenId);
    if (entry) {
      // Refresh LRU position.
      this.entries.delete(citizenId);
      this.entries.set(citizenId, entry);
    } else {
      entry = this.connect(citizenId);
      this.entries.set(citizenId, entry);
      entry.catch(() => this.entries.delete(citizenId));
      if (this.entries.size > this.max) {
        const oldest = this.entries.keys().next().value as string;
        const victim = this.entries.get(oldest);
        this.entries.delete(oldest);
        void victim?.then((v) => v.close()).catch(() => undefined);
      }
    }
    return (await entry).tools;
  }

  private async connect(citizenId: string) {
    const server = await this.serverFor(citizenId);
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'xiaoshen-agent', version: '0.1.0' });
    await server.connect(serverTransport);
    await client.connect(clientTransport);
    return {
      tools: mcpAgentTools(client),
      close: async () => {
        await client.close();
        await server.close();
      },
    };
  }

  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(all.map(async (e) => (await e).close()));
  }
}
