<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use Opsync\Engine;
use PHPUnit\Framework\TestCase;

/**
 * From identical starting databases and sandboxes, the PHP drop-in and `opsync sync` reach
 * identical `tbldomains` rows, activity-log lines, Openprovider domains and reports.
 */
final class ParityTest extends TestCase
{
    /** The native policy that matches the worlds' advanced configuration. */
    private const POLICY = "due_date_offset_days = 10\nexpiry_source = \"expiration_date\"";

    /**
     * @param list<string> $rows
     * @param list<array<string, mixed>> $domains
     */
    /**
     * @param array<string, list<string>> $checks SQL => what it reads in both worlds afterwards
     * @param list<string> $reportHas what the last report says in both worlds
     */
    private function assertBothHostsReachTheSameEnd(
        string $name,
        array $rows,
        array $domains,
        bool $held = false,
        array $checks = [],
        array $reportHas = [],
    ): void {
        $php = new World("{$name}_php", $rows, $domains);
        $native = new World("{$name}_native", $rows, $domains);
        try {
            [$status, $out, $err] = $php->install();
            self::assertSame(0, $status, $out . $err);
            $config = $native->nativeConfig(self::POLICY);
            $phpTrace = ['OPSYNC_TRACE' => "{$php->root}/trace.jsonl"];
            $nativeTrace = ['OPSYNC_TRACE' => "{$native->root}/trace.jsonl"];
            $release = [];
            if ($held) {
                // Both hosts' default brake holds the run the same way: nothing written,
                // the same report.
                $before = $php->allRows();
                [$status, , $err] = $php->domainSync([], $phpTrace);
                self::assertSame(8, $status, $err);
                [$status, , $err] = $native->native(['sync', '--config', $config], $nativeTrace);
                self::assertSame(8, $status, $err);
                self::assertSame($before, $php->allRows(), 'a held run writes nothing');
                self::assertSame($before, $native->allRows(), 'a held run writes nothing');
                [$nativeRun] = $native->runs();
                [$phpRun] = $php->runs();
                self::assertSame(['held', 'held'], [$nativeRun['mode'], $phpRun['mode']]);
                self::assertSame(['8', '8'], [(string) $nativeRun['exit_status'], (string) $phpRun['exit_status']], 'both hosts record exit status 8');
                self::assertStringStartsWith('[held] ', $phpRun['subject']);
                self::assertSame($nativeRun['subject'], $phpRun['subject'], "the held report's subject");
                foreach (['report_text', 'report_html'] as $field) {
                    self::assertSame(World::withoutRunTime($nativeRun[$field]), World::withoutRunTime($phpRun[$field]), "the held report's $field");
                }
                $release = ['--allow-mass-change'];
            }
            [$status, , $err] = $php->domainSync($release, $phpTrace);
            self::assertSame(0, $status, $err);
            [$status, , $err] = $native->native(array_merge(['sync', '--config', $config], $release), $nativeTrace);
            self::assertSame(0, $status, $err);

            // Parity by trace: both hosts asked for the same requests, request for request.
            $nativeRequests = World::requests($nativeTrace['OPSYNC_TRACE']);
            self::assertNotSame([], $nativeRequests, 'the native runs were traced');
            self::assertSame($nativeRequests, World::requests($phpTrace['OPSYNC_TRACE']), 'the requests of both hosts');

            self::assertSame($native->allRows(), $php->allRows(), 'tbldomains');
            // The same lines; their order may differ: the native host logs each
            // Openprovider update the moment it is confirmed, in the order the answers
            // come back, the drop-in once its calls in flight are all done.
            $sorted = static function (array $lines): array {
                sort($lines);
                return $lines;
            };
            self::assertSame($sorted($native->activity()), $sorted($php->activity()), 'activity-log lines');
            self::assertSame($native->sandbox->domains(), $php->sandbox->domains(), 'Openprovider domains');
            $nativeCalls = $native->sandbox->counters();
            $phpCalls = $php->sandbox->counters();
            self::assertSame([$nativeCalls['login'], $nativeCalls['list'], $nativeCalls['update']], [$phpCalls['login'], $phpCalls['list'], $phpCalls['update']], 'API calls');
            $nativeRuns = $native->runs();
            $phpRuns = $php->runs();
            [$nativeRun, $phpRun] = [end($nativeRuns), end($phpRuns)];
            self::assertSame(['opsync', 'whmcs'], [$nativeRun['host'], $phpRun['host']]);
            // Each host remembers when it first saw a problem by its own clock, the two ran
            // seconds apart, and each times its own run: those times are the one thing the
            // reports may differ in.
            $undated = static fn (string $text): string => (string) preg_replace('/\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?/', '<time>', $text);
            foreach (['subject', 'rows_checked', 'changed_rows', 'errors', 'warnings', 'failures'] as $field) {
                self::assertSame($undated((string) $nativeRun[$field]), $undated((string) $phpRun[$field]), "the report's $field");
            }
            foreach (['report_text', 'report_html'] as $field) {
                self::assertSame($undated(World::withoutRunTime($nativeRun[$field])), $undated(World::withoutRunTime($phpRun[$field])), "the report's $field");
            }
            self::assertMatchesRegularExpression('/\nThe run took \d[^\n]* up to this report\.\n$/', (string) $phpRun['report_text'], 'the drop-in gives its run time in the footer');
            self::assertNotSame('0', (string) $phpRun['changed_rows'], 'something changed at all');
            foreach ($checks as $sql => $expected) {
                self::assertSame($expected, $php->texts($sql), $sql);
                self::assertSame($expected, $native->texts($sql), $sql);
            }
            // A problem is listed in the first report that has it (the held one, when the
            // brake held the run); later ones give it one "still open" line.
            $allReports = implode("\n", array_column($phpRuns, 'report_text'));
            foreach ($reportHas as $text) {
                self::assertStringContainsString($text, $allReports);
            }
        } finally {
            $php->destroy();
            $native->destroy();
        }
    }

    public function testTheDemoFixture(): void
    {
        $this->assertBothHostsReachTheSameEnd('pdemo', World::demoRows(), World::demoDomains());
    }

    public function testAThousandDomainsWithDriftOfEveryKind(): void
    {
        [$rows, $domains] = self::generated(1000);
        $this->assertBothHostsReachTheSameEnd('p1000', $rows, $domains, held: true, checks: [
            // Deleted at Openprovider (kind 7, found among the deleted): Expired.
            'SELECT status FROM tbldomains WHERE id IN (23, 55) ORDER BY id' => ['Expired', 'Expired'],
            // Gone from Openprovider (kind 7, i % 32 = 7): untouched.
            'SELECT status FROM tbldomains WHERE id = 7' => ['Active'],
            // No usable name: untouched.
            'SELECT status FROM tbldomains WHERE id IN (64, 128) ORDER BY id' => ['Active', 'Active'],
        ], reportHas: ['invalid_record', '"  " is not a usable domain name', '"" is not a usable domain name']);
    }

    /**
     * `$count` WHMCS rows and their Openprovider account, drifted apart in every way the
     * sync handles, deterministically.
     *
     * @return array{0: list<string>, 1: list<array<string, mixed>>}
     */
    public static function generated(int $count): array
    {
        $idn = (new Engine())->lookupNames(array_map(static fn (int $i): string => "bücher-$i.de", range(1, $count)));
        $values = [];
        $domains = [];
        for ($i = 1; $i <= $count; $i++) {
            $kind = $i % 16;
            $day = sprintf('2027-%02d-%02d', 1 + $i % 12, 1 + $i % 28);
            $later = date('Y-m-d', strtotime("$day +30 days"));
            $yearLater = date('Y-m-d', strtotime("$day +1 year"));
            $name = "domain-$i";
            $tld = ['com', 'nl', 'eu', 'net'][$i % 4];
            $row = ['id' => $i, 'domain' => "$name.$tld", 'status' => 'Active', 'exp' => $day, 'due' => $day,
                'dnr' => 0, 'idp' => 0, 'rem' => '1|2'];
            $op = ['id' => 100000 + $i, 'domain' => ['name' => $name, 'extension' => $tld], 'status' => 'ACT',
                'expiration_date' => "$day 00:00:00", 'renewal_date' => "$day 00:00:00", 'autorenew' => 'default',
                'is_private_whois_enabled' => false, 'is_private_whois_allowed' => true, 'is_deleted' => false];
            switch ($kind) {
                case 1: // renewed at the registrar: expiry and due date follow
                    $op['expiration_date'] = "$later 00:00:00";
                    break;
                case 2: // renewed a year: the expiry follows, the due date is held by the guard
                    $op['expiration_date'] = "$yearLater 0:00:00";
                    break;
                case 3: // the customer cancelled auto-renew
                    $row['dnr'] = 1;
                    $op['autorenew'] = 'on';
                    break;
                case 4: // ID protection wanted; on a TLD without privacy for some
                    $row['idp'] = 1;
                    $op['is_private_whois_allowed'] = $i % 32 !== 4;
                    break;
                case 5: // deleted at the registrar
                    $op['status'] = 'DEL';
                    break;
                case 6: // pending at the registrar, with a change that must wait
                    $op['status'] = 'PEN';
                    $op['autorenew'] = 'on';
                    break;
                case 7: // gone from the registrar; or deleted there, so only a look-up of the
                    // deleted finds it (contract v1.1)
                    if ($i % 32 === 7) {
                        $op = null;
                    } else {
                        $op['is_deleted'] = true;
                        $op['autorenew'] = 'on';
                        $row['dnr'] = 1;
                    }
                    break;
                case 0: // now and then a row without a usable name: that row's problem only
                    if ($i % 64 === 0) {
                        $row['domain'] = $i % 128 === 0 ? '' : '  ';
                    }
                    break;
                case 8: // unknown dates in WHMCS
                    $row['exp'] = $row['due'] = '0000-00-00';
                    $row['status'] = 'Pending Registration';
                    break;
                case 9: // an IDN name, and its punycode at the registrar
                    $row['domain'] = "bücher-$i.de";
                    [$label] = explode('.', (string) $idn[$i - 1]);
                    $op['domain'] = ['name' => $label, 'extension' => 'de'];
                    $op['autorenew'] = 'off';
                    break;
                case 10: // the name typed differently in WHMCS
                    $row['domain'] = strtoupper($name) . ".$tld.";
                    $op['expiration_date'] = "$later 00:00:00";
                    break;
                case 11: // the request failed, or a status opsync does not know
                    $op['status'] = $i % 32 === 11 ? 'FAI' : 'PRE';
                    break;
                case 12: // protected rows change nothing on either side
                    $row['status'] = $i % 32 === 12 ? 'Fraud' : 'Cancelled';
                    $op['autorenew'] = 'on';
                    $op['expiration_date'] = "$later 00:00:00";
                    break;
                case 13: // an unparseable date at Openprovider
                    $op['expiration_date'] = '2027-02-30 00:00:00';
                    break;
                case 14: // a second WHMCS row for the same name
                    $values[] = self::values(['id' => 50000 + $i] + $row);
                    $op['expiration_date'] = "$later 00:00:00";
                    break;
                case 15: // the renewal date differs; the expiration date leads
                    $op['renewal_date'] = "$later 00:00:00";
                    break;
            }
            $values[] = self::values($row);
            if ($op !== null) {
                $domains[] = $op;
            }
        }
        $rows = [];
        foreach (array_chunk($values, 200) as $chunk) {
            $rows[] = 'INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, '
                . 'nextinvoicedate, donotrenew, idprotection, reminders) VALUES ' . implode(', ', $chunk);
        }
        // A record the engine cannot read: left out by both hosts, never the whole run.
        $domains[] = ['id' => 999999, 'domain' => ['name' => '', 'extension' => 'com'], 'status' => 'ACT'];
        shuffle($domains);
        return [$rows, $domains];
    }

    /** @param array<string, mixed> $row */
    private static function values(array $row): string
    {
        return sprintf(
            "(%d, %d, '%s', 'openprovider', '%s', '%s', '%s', '%s', %d, %d, '%s')",
            $row['id'],
            1 + $row['id'] % 7,
            $row['domain'],
            $row['status'],
            $row['exp'],
            $row['due'],
            $row['due'],
            $row['dnr'],
            $row['idp'],
            $row['rem']
        );
    }
}
