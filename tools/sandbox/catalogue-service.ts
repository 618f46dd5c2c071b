import type { z } from 'zod';
import { notFound } from '../../core/errors.js';
import type { Service } from '../../knowledge/catalogue.js';
import { GUIDES_DIR, readGuide } from '../../knowledge/guides.js';
import { GetServiceGuideInput, SearchServicesInput, type ServiceGuide } from '../contract.js';
import type { Principal } from '../identity/principal.js';
import { parseInput } from '../validation.js';
import { searchCatalogue, toSummary } from './catalogue-search.js';
import type { ServiceContext } from './service-context.js';

/** The catalogue and its guides: public information, not audited. */
export class CatalogueService {
  constructor(private readonly ctx: ServiceContext, private readonly guidesDir = GUIDES_DIR) {}

  list(): ReturnType<typeof toSummary>[] {
    return this.ctx.catalogue.services.map((s) => toSummary(s));
  }

  search(_p: Principal | null, input: z.input<typeof SearchServicesInput>): ReturnType<typeof toSummary>[] {
    const { query, limit } = parseInput(SearchServicesInput, input);
    return searchCatalogue(this.ctx.catalogue.services, query, limit ?? 5);
  }

  get(serviceId: string): Service {
    const s = this.ctx.catalogue.get(serviceId);
    if (!s) throw notFound('办事事项');
    return s;
  }

  guide(_p: Principal | null, input: z.input<typeof GetServiceGuideInput>): ServiceGuide {
    const { serviceId } = parseInput(GetServiceGuideInput, input);
    const service = this.get(serviceId);
    const base = { serviceId: service.id, name: service.name, department: service.department, transactable: service.transactable, aliases: service.aliases };
    const g = readGuide(service.id, this.guidesDir, this.ctx.catalogue.services);
    if (!g) {
      return {
        ...base, available: false, updated: null, references: [], sections: [],
        message: `「${service.name}」的办事指南正在整理中，暂时无法提供详细内容。您可以拨打 12345 市民服务热线咨询，或转人工客服。`,
      };
    }
    return {
      ...base,
      available: true,
      updated: g.updated,
      references: g.references,
      sections: g.sections.map((s) => ({ title: s.name, content: s.content })),
    };
  }
}
