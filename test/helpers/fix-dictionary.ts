import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * jspurefix's FIX 4.4 dictionary with bookcast's additions, as a counterparty configures a
 * venue's extensions (README, "FIX gateway"): RptSeq (83) and BookChecksum (20001) on W,
 * BookChecksum and PrevRptSeq (20002) on X, RptSeq in MDIncGrp (the QuickFIX 4.4 file leaves it out), and
 * MinPriceIncrement (969, FIX 5.0) in SecListGrp. Written to a temporary file; returns its path.
 */
export function bookcastFix44Dictionary(): string {
  const source = path.join(path.dirname(require.resolve('jspurefix/package.json')), 'data', 'FIX44.xml');
  let xml = readFileSync(source, 'utf8');
  const patch = (within: RegExp, find: string, replace: string) => {
    const m = within.exec(xml);
    if (m === null || !m[0].includes(find)) throw new Error(`dictionary patch: ${within} / ${find} not found`);
    xml = xml.slice(0, m.index) + m[0].replace(find, replace) + xml.slice(m.index + m[0].length);
  };
  patch(/<message name='MarketDataSnapshotFullRefresh'[\s\S]*?<\/message>/, "<component name='Instrument' required='Y' />", "<component name='Instrument' required='Y' />\n   <field name='RptSeq' required='N' />\n   <field name='BookChecksum' required='N' />");
  patch(/<message name='MarketDataIncrementalRefresh'[\s\S]*?<\/message>/, "<component name='MDIncGrp' required='Y' />", "<field name='BookChecksum' required='N' />\n   <field name='PrevRptSeq' required='N' />\n   <component name='MDIncGrp' required='Y' />");
  patch(/<component name='MDIncGrp'>[\s\S]*?<\/component>/, "<field name='MDEntrySize' required='N' />", "<field name='MDEntrySize' required='N' />\n    <field name='RptSeq' required='N' />");
  patch(/<component name='SecListGrp'>[\s\S]*?<\/component>/, "<field name='Currency' required='N' />", "<field name='Currency' required='N' />\n    <field name='MinPriceIncrement' required='N' />");
  patch(/<fields>/, '<fields>', "<fields>\n  <field number='20001' name='BookChecksum' type='INT' />\n  <field number='20002' name='PrevRptSeq' type='INT' />\n  <field number='969' name='MinPriceIncrement' type='PRICE' />");
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bookcast-fixdict-')), 'FIX44-bookcast.xml');
  writeFileSync(file, xml);
  return file;
}
