import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkData, SHARED_SPEC_PATH, VENDORED_SPEC_PATH } from '../app/data-check.js';
import { CATALOGUE_PATH } from '../knowledge/catalogue.js';

/** The data check (app/data-check.ts) passes on the project's data and catches each kind of broken reference. */
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Catalogue = { services: { id: string; fields?: Record<string, unknown>[]; eligibility?: unknown[]; outcome?: Record<string, unknown> }[]; [k: string]: unknown };
function variant(change: (c: Catalogue) => void): string {
  const c = JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as Catalogue;
  change(c);
  const dir = mkdtempSync(join(tmpdir(), 'xs-check-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'services.json'), JSON.stringify(c));
  return join(dir, 'services.json');
}
const svc = (c: Catalogue, id: string) => c.services.find((s) => s.id === id)!;

describe('data check', () => {
  it('finds nothing wrong with the project\'s data', () => {
    expect(checkData()).toEqual([]);
  });

  it('keeps its copy of the spec catalogue identical to shared/spec when that is beside the project', () => {
    if (!existsSync(SHARED_SPEC_PATH)) return;
    expect(readFileSync(VENDORED_SPEC_PATH, 'utf8')).toBe(readFileSync(SHARED_SPEC_PATH, 'utf8'));
  });

  it('names a service of the spec the catalogue lost, and a changed field', () => {
    const file = variant((c) => {
      c.services = c.services.filter((s) => s.id !== 'passport');
      svc(c, 'social_security_card').fields = svc(c, 'social_security_card').fields!.filter((f) => f.key !== 'phone');
    });
    const problems = checkData({ catalogue: file, lexicons: false }).join('\n');
    expect(problems).toMatch(/services\.passport: in shared\/spec\/services\.json but missing/);
    expect(problems).toMatch(/social_security_card\.fields\.phone: in the spec but missing/);
  });

  it('refuses a protected fact as a stated reason, and unknown facts and fields', () => {
    const file = variant((c) => {
      svc(c, 'criminal_record_certificate').eligibility = [{ require: { fact: 'record_on_file', op: '==', value: false }, reason: '您有记录{record_on_file}' }];
      svc(c, 'senior_allowance').eligibility = [{ require: { fact: 'pension_years', op: '>=', value: 15 }, reason: '需缴费满15年' }];
      svc(c, 'social_security_card').outcome = { result: 'submitted', messages: { submitted: [{ when: 'colour == 红', text: '已提交，请等待。' }] } };
    });
    const problems = checkData({ catalogue: file, lexicons: false }).join('\n');
    expect(problems).toMatch(/criminal_record_certificate\.eligibility\[0\]\.require: names the protected fact "record_on_file"/);
    expect(problems).toMatch(/criminal_record_certificate\.eligibility\[0\]\.reason: names the protected fact/);
    expect(problems).toMatch(/senior_allowance\.eligibility\[0\]\.require: names the fact "pension_years"/);
    expect(problems).toMatch(/names the field "colour"/);
  });

  it('catches an option the lexicons swallow (an option that reads as an assent)', () => {
    const file = variant((c) => {
      const f = svc(c, 'residence_permit').fields!.find((x) => x.key === 'basis')!;
      f.options = [...(f.options as string[]), '好的'];
    });
    const problems = checkData({ catalogue: file, spec: null }).join('\n');
    expect(problems).toMatch(/"申领依据改成好的" is not read as a change of basis to "好的"/);
  });

  it('catches a suggestion the NLU would not read as that value (a touch that fills nothing)', () => {
    const file = variant((c) => {
      const f = svc(c, 'criminal_record_certificate').fields!.find((x) => x.key === 'destination')!;
      f.suggestions = [...(f.suggestions as string[]), '好的吧'];
    });
    const problems = checkData({ catalogue: file, spec: null }).join('\n');
    expect(problems).toMatch(/suggestion "好的吧" is not read as destination = "好的吧"/);
    expect(problems).not.toMatch(/suggestion "新西兰"/);
  });
});
