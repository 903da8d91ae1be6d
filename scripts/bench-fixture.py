#!/usr/bin/env python3
"""The benchmarks' data: N WHMCS rows and the Openprovider account they belong to, 1% of the
domains drifted (expiry renewed a year at the registrar, auto-renew "on").

Usage: bench-fixture.py N DIR  -- writes DIR/seed.json (the sandbox's seed) and
DIR/rows.sql (the tbldomains rows, for MariaDB)."""
import json
import sys

n, work = int(sys.argv[1]), sys.argv[2]
domains, rows = [], []
for i in range(1, n + 1):
    drift = i % 100 == 0
    day = 1 + i % 28
    name, ext = f"bench-{i:06d}", ["com", "nl", "eu", "net"][i % 4]
    exp = f"2027-03-{day:02d}"
    domains.append({"id": 500000 + i, "domain": {"name": name, "extension": ext}, "status": "ACT",
        "expiration_date": f"{'2028' if drift else '2027'}-03-{day:02d} 00:00:00", "renewal_date": f"2027-03-{day:02d} 00:00:00",
        "autorenew": "on" if drift else "default", "is_private_whois_enabled": False,
        "is_private_whois_allowed": True, "is_deleted": False})
    rows.append(f"({i},1,'{name}.{ext}','openprovider','Active','{exp}','{exp}','{exp}',0,0,'','','','')")
json.dump({"domains": domains}, open(f"{work}/seed.json", "w"))
with open(f"{work}/rows.sql", "w") as f:
    f.write("SET SESSION sql_mode='';\n")
    for k in range(0, n, 1000):
        f.write("INSERT INTO tbldomains (id,userid,domain,registrar,status,expirydate,nextduedate,nextinvoicedate,donotrenew,idprotection,reminders,subscriptionid,additionalnotes,paymentmethod) VALUES ")
        f.write(",".join(rows[k:k+1000]) + ";\n")
