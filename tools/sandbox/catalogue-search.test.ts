import { describe, expect, it } from 'vitest';
import { catalogue } from '../../knowledge/catalogue.js';
import { searchCatalogue } from './catalogue-search.js';

describe('catalogue search', () => {
  const services = catalogue().services;
  it('finds a service by alias, colloquial name or a sentence containing it', () => {
    expect(searchCatalogue(services, '无犯罪证明')[0]?.id).toBe('criminal_record_certificate');
    expect(searchCatalogue(services, '我想开个无犯罪记录证明，出国留学用')[0]?.id).toBe('criminal_record_certificate');
    expect(searchCatalogue(services, '居住证')[0]?.id).toBe('residence_permit');
    expect(searchCatalogue(services, '社保卡')[0]?.id).toBe('social_security_card');
    expect(searchCatalogue(services, 'Police Clearance Certificate')[0]?.id).toBe('criminal_record_certificate');
  });
  it('returns nothing for unrelated text and honours the limit', () => {
    expect(searchCatalogue(services, '今天天气怎么样')).toEqual([]);
    expect(searchCatalogue(services, '证', 2).length).toBeLessThanOrEqual(2);
  });
});
