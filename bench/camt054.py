#!/usr/bin/env python3
"""A camt.054.001.08 notification for bench/billing: one booked CHF 20.00 credit per QR
reference in the file given (one per line), as a Swiss bank delivers it (after the Swiss
Payment Standards' example), written to stdout."""
import sys
from xml.sax.saxutils import escape

refs = [line.strip() for line in open(sys.argv[1]) if line.strip()]
out = sys.stdout
out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">\n'
          '<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH-CAMT054</MsgId><CreDtTm>2026-12-04T21:15:03</CreDtTm></GrpHdr>\n'
          '<Ntfctn><Id>BENCH-1</Id><CreDtTm>2026-12-04T21:15:03</CreDtTm>'
          '<Acct><Id><IBAN>CH4431999123000889012</IBAN></Id></Acct>\n')
for n, ref in enumerate(refs, 1):
    out.write(
        '<Ntry><Amt Ccy="CHF">20.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>false</RvslInd>'
        '<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-12-04</Dt></BookgDt><ValDt><Dt>2026-12-04</Dt></ValDt>'
        f'<AcctSvcrRef>BENCH-{n}</AcctSvcrRef><NtryDtls><TxDtls><Refs><AcctSvcrRef>BENCH-{n}-1</AcctSvcrRef>'
        '<EndToEndId>NOTPROVIDED</EndToEndId></Refs><Amt Ccy="CHF">20.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        '<RltdPties><Dbtr><Pty><Nm>Anna Muster</Nm></Pty></Dbtr></RltdPties>'
        '<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>QRR</Prtry></CdOrPrtry></Tp>'
        f'<Ref>{escape(ref)}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>\n')
out.write('</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n')
