import type { Licence, Profile } from '../contract.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { audit } from './audit.js';
import { toProfile } from './citizens.js';
import { listLicences } from './licences.js';
import type { ServiceContext } from './service-context.js';

/** The citizen's own shared-data record and card wallet (卡包), masked and audited. */
export class CitizenService {
  constructor(private readonly ctx: ServiceContext) {}

  async profile(p: Principal): Promise<Profile> {
    const c = await this.ctx.citizenOf(p);
    await audit(this.ctx.pool, { actor: actorOf(p), action: 'profile.read', subjectCitizenId: c.id, why: '查看本人信息' });
    return toProfile(c, this.ctx.now());
  }

  async licences(p: Principal): Promise<Licence[]> {
    const c = await this.ctx.citizenOf(p);
    await audit(this.ctx.pool, { actor: actorOf(p), action: 'licences.read', subjectCitizenId: c.id, why: '查看本人电子证照（卡包）' });
    return listLicences(this.ctx.pool, c.id);
  }
}
