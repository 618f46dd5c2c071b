import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import QRCode from 'qrcode';
import { z } from 'zod';
import { AppError, notFound } from '../../core/errors.js';
import { maskName } from '../../core/mask.js';
import { actorOf, type Principal } from '../identity/principal.js';
import { audit } from './audit.js';
import { shanghaiDay } from './repeats.js';
import type { ServiceContext } from './service-context.js';

/**
 * 出示 and 核验 of e-licences (卡包): the holder gets a compact code signed by the server,
 * shown as a QR code (and on a downloadable certificate card); anyone who scans it opens
 * `/verify?c=<code>`, no login, and sees only what a verifier needs.
 *
 * Code: `1.<base64url(licence id)>.<issued_at seconds, base36>.<signature>`, the signature being
 * the first 22 base64url characters (132 bits) of HMAC-SHA256 over the part before it, with a
 * key derived (HKDF) from the token secret under its own purpose label, so a code is never a
 * login token and a login token never a code. About 60 characters: a small, easily scanned QR
 * (a JWS would be three times as long). The code does not expire; the licence's own validity
 * (expiry, withdrawal, re-issue) is checked at every verification.
 */
const VERSION = '1';
const SIG_CHARS = 22;
const KEY_INFO = 'xiaoshen licence-share code v1';

/** The signing key for 出示 codes, derived from the token secret (TOKEN_SECRET or DATA_DIR/token-secret). */
export function deriveLicenceShareKey(tokenSecret: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', tokenSecret, 'xiaoshen', KEY_INFO, 32));
}

export interface ShareCodeClaims {
  licenceId: string;
  /** issued_at of the licence, in whole seconds: a re-issued licence invalidates older codes. */
  issuedAt: number;
}

const REFUSED = '核验码无效：二维码可能不完整或被篡改，无法验证该证照。请向出示人核实。';
export const invalidCode = () => new AppError('invalid_code', 400, REFUSED);

export class ShareCodec {
  constructor(private readonly key: Uint8Array) {}

  encode(c: ShareCodeClaims): string {
    const body = `${VERSION}.${Buffer.from(c.licenceId, 'utf8').toString('base64url')}.${c.issuedAt.toString(36)}`;
    return `${body}.${this.sign(body)}`;
  }

  /** The claims of a code this server signed; an `invalid_code` 400 for anything else (nothing about the licence is looked up first). */
  decode(code: string): ShareCodeClaims {
    const parts = code.split('.');
    if (parts.length !== 4) throw invalidCode();
    const [version, id64, ts36, sig] = parts as [string, string, string, string];
    const body = `${version}.${id64}.${ts36}`;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCode();
    if (version !== VERSION || !/^[A-Za-z0-9_-]{1,128}$/.test(id64) || !/^[0-9a-z]{1,10}$/.test(ts36)) throw invalidCode();
    const licenceId = Buffer.from(id64, 'base64url').toString('utf8');
    if (!licenceId || Buffer.from(licenceId, 'utf8').toString('base64url') !== id64) throw invalidCode();
    return { licenceId, issuedAt: parseInt(ts36, 36) };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, SIG_CHARS);
  }
}

// ---- shapes -------------------------------------------------------------------------------

/** What a verifier sees of a licence: no ID number, no licence number, no citizen id. */
export const LicenceFace = z.object({
  name: z.string().describe('证照名称'),
  issuer: z.string().describe('签发机关'),
  holder: z.string().describe('持证人（脱敏，如 孙*）'),
  issuedOn: z.string().describe('签发日期 YYYY-MM-DD（上海时间）'),
  validUntil: z.string().nullable().describe('有效期至 YYYY-MM-DD；null 为长期有效'),
  validity: z.string().describe('有效期的文字说明，如 “2027-06-01” 或 “长期有效”'),
});
export type LicenceFace = z.infer<typeof LicenceFace>;

export const VerifyStatus = z.enum(['valid', 'expired', 'revoked', 'superseded']);

export const LicenceVerification = z.object({
  valid: z.boolean(),
  status: VerifyStatus,
  /** 有效 / 无效 */
  label: z.string(),
  /** Why it is not valid (Chinese); null when valid. */
  reason: z.string().nullable(),
  /** Null when the licence no longer exists (cancelled or re-issued). */
  licence: LicenceFace.nullable(),
  checkedAt: z.string(),
});
export type LicenceVerification = z.infer<typeof LicenceVerification>;

export const LicenceShare = z.object({
  licenceId: z.string(),
  code: z.string(),
  /** The verification page the QR code opens. */
  url: z.string(),
  /** The QR code as an SVG data URL (img src). */
  qr: z.string(),
  licence: LicenceFace,
  /** Whether the licence is valid now (an expired one can be shown; the verifier sees 无效). */
  valid: z.boolean(),
  /** File name of the downloadable certificate card (GET /api/me/licences/:id/card). */
  filename: z.string(),
});
export type LicenceShare = z.infer<typeof LicenceShare>;

// ---- helpers ------------------------------------------------------------------------------

/** `https://host` of the request: the host header, stripped to host characters. */
export function originOf(protocol: string, host: string | undefined): string {
  const h = String(host ?? '').replace(/[^A-Za-z0-9.:\-[\]]/g, '') || '127.0.0.1';
  return `${protocol === 'https' ? 'https' : 'http'}://${h}`;
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

interface Row {
  id: string;
  citizen_id: string;
  holder: string;
  name: string;
  issuer: string;
  issued_at: Date;
  valid_until: string | null;
  application_status: string | null;
}

const SELECT = `SELECT l.id, l.citizen_id, c.name AS holder, l.name, l.issuer, l.issued_at,
                       to_char(l.valid_until, 'YYYY-MM-DD') AS valid_until, a.status AS application_status
                  FROM e_licences l JOIN citizens c ON c.id = l.citizen_id
                  LEFT JOIN applications a ON a.id = l.application_id`;

/**
 * 出示 and 核验 of e-licences. Only the holder gets a licence's code (another citizen's id is
 * a 404, as if it did not exist); verification needs no login and is audited as anonymous.
 */
export class LicenceShareService {
  private readonly codec: ShareCodec;

  /** Without a key (tests, tools), codes are signed with a random key and last for this process only. */
  constructor(private readonly ctx: ServiceContext, key?: Uint8Array) {
    this.codec = new ShareCodec(key ?? randomBytes(32));
  }

  /** The holder's code for one of their licences, its QR code and what it shows. */
  async share(p: Principal, licenceId: string, origin: string): Promise<LicenceShare> {
    const row = await this.ownRow(p, licenceId);
    const code = this.codeOf(row);
    const url = `${origin}/verify?c=${code}`;
    const svg = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } });
    await audit(this.ctx.pool, { actor: actorOf(p), action: 'licence.share', subjectCitizenId: row.citizen_id, what: { licenceId: row.id }, why: '出示电子证照' });
    const status = this.statusOf(row);
    return {
      licenceId: row.id, code, url,
      qr: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
      licence: this.faceOf(row),
      valid: status === 'valid',
      filename: this.filenameOf(row),
    };
  }

  /** A self-contained SVG certificate card with the QR code, for the holder to keep (下载). */
  async card(p: Principal, licenceId: string, origin: string): Promise<{ filename: string; svg: string }> {
    const row = await this.ownRow(p, licenceId);
    const url = `${origin}/verify?c=${this.codeOf(row)}`;
    const qr = await QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } });
    await audit(this.ctx.pool, { actor: actorOf(p), action: 'licence.download', subjectCitizenId: row.citizen_id, what: { licenceId: row.id }, why: '下载电子证照' });
    return { filename: this.filenameOf(row), svg: cardSvg(this.faceOf(row), qr) };
  }

  /** Checks a code and the licence it names; a bad code is refused before anything is looked up. */
  async verify(code: string): Promise<LicenceVerification> {
    const claims = this.codec.decode(code);
    const checkedAt = this.ctx.now().toISOString();
    const r = await this.ctx.pool.query<Row>(`${SELECT} WHERE l.id = $1`, [claims.licenceId]);
    const row = r.rows[0];
    if (!row || Math.floor(row.issued_at.getTime() / 1000) !== claims.issuedAt) {
      await audit(this.ctx.pool, { actor: { kind: 'anonymous', id: '-' }, action: 'licence.verify', subjectCitizenId: row?.citizen_id ?? null, what: { licenceId: claims.licenceId, status: 'superseded' }, why: '扫码核验电子证照' });
      return {
        valid: false, status: 'superseded', label: '无效', licence: null, checkedAt,
        reason: '该证照已注销或已重新签发，此核验码不再有效。请持证人重新出示。',
      };
    }
    const status = this.statusOf(row);
    await audit(this.ctx.pool, { actor: { kind: 'anonymous', id: '-' }, action: 'licence.verify', subjectCitizenId: row.citizen_id, what: { licenceId: row.id, status }, why: '扫码核验电子证照' });
    return {
      valid: status === 'valid', status, label: status === 'valid' ? '有效' : '无效', licence: this.faceOf(row), checkedAt,
      reason: status === 'valid' ? null
        : status === 'expired' ? `该证照已于 ${row.valid_until} 过期，已失效。`
          : '该证明对应的申请已撤回或未通过，证明已失效。',
    };
  }

  private async ownRow(p: Principal, licenceId: string): Promise<Row> {
    const c = await this.ctx.citizenOf(p);
    const r = await this.ctx.pool.query<Row>(`${SELECT} WHERE l.id = $1 AND l.citizen_id = $2`, [licenceId, c.id]);
    if (!r.rows[0]) throw notFound('证照');
    return r.rows[0];
  }

  private codeOf(row: Row): string {
    return this.codec.encode({ licenceId: row.id, issuedAt: Math.floor(row.issued_at.getTime() / 1000) });
  }

  private statusOf(row: Row): z.infer<typeof VerifyStatus> {
    if (row.application_status !== null && row.application_status !== 'issued') return 'revoked';
    if (row.valid_until !== null && row.valid_until < shanghaiDay(this.ctx.now())) return 'expired';
    return 'valid';
  }

  private faceOf(row: Row): LicenceFace {
    return {
      name: row.name, issuer: row.issuer, holder: maskName(row.holder),
      issuedOn: shanghaiDay(row.issued_at), validUntil: row.valid_until, validity: row.valid_until ?? '长期有效',
    };
  }

  private filenameOf(row: Row): string {
    return `${row.name.replace(/[\\/:*?"<>|\s]+/g, '')}-${shanghaiDay(row.issued_at)}.svg`;
  }
}

/** The certificate card: a 600×860 SVG with the licence's face and its QR code (fonts of the viewer's system). */
export function cardSvg(f: LicenceFace, qrSvg: string): string {
  const qr = qrSvg.replace(/^[\s\S]*?<svg\b/, '<svg x="150" y="420" width="300" height="300"');
  const rows: Array<[string, string]> = [['持证人', f.holder], ['签发机关', f.issuer], ['签发日期', f.issuedOn], ['有效期至', f.validity]];
  const text = rows.map(([k, v], i) =>
    `<text x="60" y="${210 + i * 48}" class="k">${xml(k)}</text><text x="190" y="${210 + i * 48}" class="v">${xml(v)}</text>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="600" height="860" viewBox="0 0 600 860" role="img" aria-label="${xml(f.name)}">
<title>${xml(f.name)}（电子证照）</title>
<style>text{font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;fill:#1b1f24}.k{font-size:22px;fill:#4a5563}.v{font-size:22px;font-weight:700}</style>
<rect x="0" y="0" width="600" height="860" rx="24" fill="#ffffff" stroke="#c7cdd6" stroke-width="2"/>
<rect x="0" y="0" width="600" height="120" rx="24" fill="#0b57d0"/><rect x="0" y="96" width="600" height="24" fill="#0b57d0"/>
<text x="300" y="58" text-anchor="middle" style="font-size:20px;fill:#ffffff">上海市“一网通办” · 电子证照</text>
<text x="300" y="96" text-anchor="middle" style="font-size:30px;font-weight:700;fill:#ffffff">${xml(f.name)}</text>
${text}
${qr}
<text x="300" y="760" text-anchor="middle" style="font-size:20px">扫码核验真伪与有效期</text>
<text x="300" y="800" text-anchor="middle" style="font-size:16px;fill:#4a5563">核验结果以扫码时为准；本图不含身份证号。</text>
</svg>
`;
}
