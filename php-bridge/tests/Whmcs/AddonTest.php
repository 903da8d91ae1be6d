<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use PHPUnit\Framework\TestCase;

/**
 * The addon inside the stand-in WHMCS: its settings, activation, admin page (run history,
 * Plan, Sync now, escaping), the AfterCronJob hook, WHMCS's `_Sync`/`_TransferSync`
 * answers, and the drop-in on the command fallback when FFI is off.
 */
final class AddonTest extends TestCase
{
    private World $world;

    /** A domain whose name is an attack on the admin page. */
    private const HOSTILE = '<script>alert(1)</script>.com';

    protected function setUp(): void
    {
        $rows = World::demoRows();
        $rows[] = "INSERT INTO tbldomains (id, userid, domain, registrar, status, expirydate, nextduedate, nextinvoicedate) "
            . "VALUES (120, 1, '" . self::HOSTILE . "', 'openprovider', 'Active', '2027-01-01', '2027-01-01', '2027-01-01')";
        $this->world = new World('addon', $rows, World::demoDomains());
        [$status, $out, $err] = $this->world->install();
        self::assertSame(0, $status, $out . $err);
    }

    protected function tearDown(): void
    {
        $this->world->destroy();
    }

    /** Runs PHP inside the stand-in WHMCS with the addon loaded; its output. */
    private function addon(string $code): string
    {
        [$status, $out, $err] = $this->world->insideWhmcs("require ROOTDIR . '/modules/addons/opsync/opsync.php';\n$code");
        self::assertSame(0, $status, $out . $err);
        self::assertSame('', $err);
        return $out;
    }

    public function testTheSettingsPageListsEveryFieldAndActivationCreatesTheTables(): void
    {
        $config = json_decode($this->addon('echo json_encode(opsync_config());'), true);
        self::assertSame('opsync', $config['name']);
        self::assertSame(
            ['sync_status', 'sync_expiry_date', 'expiry_source', 'sync_due_date', 'due_date_offset_days',
                'due_date_max_shift_days', 'sync_auto_renew', 'sync_whois_privacy', 'protected_statuses',
                'mass_change_percent', 'mass_change_min_rows', 'batch_size', 'min_age_hours', 'send_empty', 'repeat_still_open_hours',
                'exclude_domains', 'exclude_extensions', 'by_extension', 'run_from_cron',
                'cron_interval_hours'],
            array_keys($config['fields'])
        );
        $activated = json_decode($this->addon('echo json_encode(opsync_activate());'), true);
        self::assertSame('success', $activated['status']);
        self::assertSame(['opsync_problems', 'opsync_runs', 'opsync_state', 'opsync_sync_state'], $this->world->texts("SHOW TABLES LIKE 'opsync%'"));
        self::assertSame('success', json_decode($this->addon('echo json_encode(opsync_deactivate());'), true)['status']);
    }

    public function testTheUpgradeGivesAnOlderRunHistoryTheExitStatusAndStepColumns(): void
    {
        // The table as the first release created it, with one run in it.
        $this->world->pdo()->exec('DROP TABLE opsync_runs');
        $this->world->pdo()->exec('CREATE TABLE opsync_runs (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, '
            . 'started_at VARCHAR(19) NOT NULL, finished_at VARCHAR(19) NOT NULL, host VARCHAR(16) NOT NULL, '
            . 'mode VARCHAR(8) NOT NULL, rows_checked INT NOT NULL, changed_rows INT NOT NULL, whmcs_updates INT NOT NULL, '
            . 'openprovider_updates INT NOT NULL, errors INT NOT NULL, warnings INT NOT NULL, failures INT NOT NULL, '
            . 'subject TEXT NOT NULL, report_text MEDIUMTEXT NOT NULL, report_html MEDIUMTEXT NOT NULL)');
        $this->world->pdo()->exec("INSERT INTO opsync_runs VALUES (NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:05', "
            . "'whmcs', 'sync', 1, 0, 0, 0, 0, 0, 0, 'old', 'old', 'old')");
        // WHMCS calls the upgrade when it finds the addon's version changed.
        $this->addon('opsync_upgrade(["version" => "0.0.1"]);');
        [$status, , $err] = $this->world->domainSync();
        self::assertSame(0, $status, $err);
        $runs = $this->world->runs();
        self::assertSame(['old', null], [$runs[0]['subject'], $runs[0]['exit_status']], 'the old run is kept, its status unknown');
        self::assertSame('0', (string) $runs[1]['exit_status']);
        self::assertContains('decide', array_column(json_decode($runs[1]['steps'], true), 'step'));
        $html = $this->addon('opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
        self::assertStringContainsString('<th>Exit status</th>', $html);
        self::assertStringContainsString('<td>?</td>', $html, 'the old run shows its status as unknown');
    }

    public function testThePageShowsTheRunsOfBothHostsAndEscapesWhatCameFromTheDatabase(): void
    {
        [$status, , $err] = $this->world->native(['sync', '--config', $this->world->nativeConfig("due_date_offset_days = 10\nexpiry_source = \"expiration_date\"")]);
        self::assertSame(0, $status, $err);
        [$status, , $err] = $this->world->domainSync();
        self::assertSame(0, $status, $err);

        $html = $this->addon('opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
        self::assertStringContainsString('<h3>Last runs</h3>', $html);
        self::assertSame(2, substr_count($html, '<td>sync</td>'), 'both runs listed');
        self::assertStringContainsString('<td>opsync</td>', $html);
        self::assertStringContainsString('<td>whmcs</td>', $html);
        self::assertStringContainsString('addonmodules.php?module=opsync&amp;run=1', $html);
        self::assertStringContainsString('name="opsync_action" value="plan"', $html);
        self::assertStringContainsString('name="opsync_action" value="sync"', $html);
        self::assertStringContainsString('<td>due_date_offset_days</td><td>10</td><td>Openprovider module (nextDueDateOffset)</td>', $html);

        $report = $this->addon('$_GET["run"] = "1"; opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
        self::assertStringContainsString('Report of the sync run of', $report);
        self::assertStringContainsString('&lt;script&gt;alert(1)&lt;/script&gt;.com', $report, 'the hostile name, escaped');
        self::assertStringNotContainsString(self::HOSTILE, $report);
        self::assertStringNotContainsString('<script>', $html . $report);
    }

    /** The page after posting `$action` with the token the admin area put into its forms. */
    private function post(string $action, bool $token = true): string
    {
        $session = $token ? '$_SESSION["standin_token"] = "t0k3n"; $_POST["token"] = "t0k3n"; ' : '$_POST["token"] = "forged"; ';
        return $this->addon($session . '$_POST["opsync_action"] = "' . $action . '"; opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
    }

    public function testPlanRunsOnThePageAndSyncIsHandedToTheNextCronRun(): void
    {
        $before = $this->world->allRows();
        $plan = $this->post('plan');
        self::assertStringContainsString('Plan: what a sync would change (nothing was written)', $plan);
        self::assertStringContainsString('[dry run] Domain Synchronisation Report: 8 domains would change', $plan);
        self::assertSame($before, $this->world->allRows());
        self::assertSame([], $this->world->mails(), 'a plan mails nothing');

        $sync = $this->post('sync');
        self::assertStringContainsString('A sync was handed to the next cron run at ', $sync);
        self::assertStringContainsString('name="opsync_action" value="cancel"', $sync);
        self::assertSame($before, $this->world->allRows(), 'the page itself syncs nothing');

        // WHMCS's cron runs; the hook carries the sync out (run_from_cron is off: only the request).
        [$status, , $err] = $this->world->insideWhmcs("require ROOTDIR . '/modules/addons/opsync/hooks.php';\nstandin_run_hook('AfterCronJob');");
        self::assertSame(0, $status, $err);
        self::assertSame('Active|2027-11-27|2027-11-17|2027-11-17', $this->world->row(104));
        self::assertSame(['sync'], array_column($this->world->runs(), 'mode'), 'a plan records nothing');
        self::assertCount(1, $this->world->mails(), 'the sync mailed its report');
        $page = $this->addon('opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
        self::assertMatchesRegularExpression('/A sync asked for at [0-9: -]+ ended at [0-9: -]+ with exit status 0\./', $page);
        self::assertStringNotContainsString('was handed to the next cron run', $page, 'nothing waits any more');
    }

    public function testAPlanHandedToCronIsCarriedOutByTheCronEntryAndShownOnThePage(): void
    {
        self::assertStringContainsString('A plan was handed to the next cron run', $this->post('plan_queued'));
        $before = $this->world->allRows();
        [$status, , $err] = $this->world->domainSync(['--verbose']);
        self::assertSame(0, $status, $err);
        self::assertStringContainsString('opsync: carried out the plan asked for on the addon page at ', $err);
        // After the plan, the cron run did its own sync.
        self::assertNotSame($before, $this->world->allRows());
        $page = $this->addon('opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
        self::assertMatchesRegularExpression('/A plan asked for at [0-9: -]+ ended at [0-9: -]+ with exit status 0\./', $page);
        self::assertStringContainsString('[dry run] Domain Synchronisation Report: 8 domains would change', $page, "the plan's report");
    }

    public function testAForgedPostIsStoppedBeforeAnythingHappens(): void
    {
        $forged = $this->post('sync_release', false);
        self::assertStringContainsString('STAND-IN check_token', $forged);
        self::assertStringNotContainsString('handed to the next cron run', $forged);
        self::assertSame([], $this->world->texts("SELECT name FROM opsync_state WHERE name = 'queued'"), 'nothing was queued');
    }

    public function testTheCronHookRunsOnlyWhenAskedAndAtMostOncePerInterval(): void
    {
        $hook = "require ROOTDIR . '/modules/addons/opsync/hooks.php';\nstandin_run_hook('AfterCronJob');";
        [$status, , $err] = $this->world->insideWhmcs($hook);
        self::assertSame(0, $status, $err);
        self::assertSame([], $this->world->mails(), 'off by default: no run');

        $this->world->pdo()->exec("INSERT INTO tbladdonmodules (module, setting, value) VALUES ('opsync', 'run_from_cron', 'on')");
        [$status, , $err] = $this->world->insideWhmcs($hook);
        self::assertSame(0, $status, $err);
        self::assertCount(1, $this->world->runs(), 'the hook synced');
        self::assertSame('Active|2027-11-27|2027-11-17|2027-11-17', $this->world->row(104));

        [$status, , $err] = $this->world->insideWhmcs($hook);
        self::assertSame(0, $status, $err);
        self::assertCount(1, $this->world->runs(), 'not again within the interval');
    }

    public function testWhmcsOwnSyncGetsTheEnginesAnswerAndNeverCancelled(): void
    {
        $answers = json_decode($this->addon(<<<'PHP'
            $answers = [];
            foreach ([101, 104, 105, 106, 108, 115] as $id) {
                $answers[$id] = [\Opsync\Whmcs\RegistrarSync::sync(['domainid' => $id]), \Opsync\Whmcs\RegistrarSync::transferSync(['domainid' => $id])];
            }
            echo json_encode($answers);
            PHP), true);
        self::assertSame([['expirydate' => '2027-03-14'], []], $answers[101], 'renewed at the registrar');
        self::assertSame([['active' => true, 'expirydate' => '2027-11-27'], ['completed' => true, 'expirydate' => '2027-11-27']], $answers[104]);
        self::assertSame([['expired' => true], []], $answers[105], 'deleted at the registrar: Expired, not Cancelled');
        self::assertSame([['error' => 'The domain name request has failed'], ['failed' => true, 'reason' => 'The domain name request has failed']], $answers[106]);
        self::assertSame('Not found in the Openprovider account', $answers[108][0]['error'], 'transferred out: an error, not transferredAway');
        self::assertSame([[], []], $answers[115], 'a status opsync does not know: nothing');
        self::assertSame('Active|2026-03-14|2026-03-04|2026-03-04', $this->world->row(101), 'WHMCS writes what _Sync answers, not opsync');
        self::assertSame(0, $this->world->sandbox->counters()['update'], 'nothing pushed from _Sync');
    }

    public function testWithoutFfiTheDropInRunsTheOpsyncCommandAndDecidesTheSame(): void
    {
        [$status, , $err] = $this->world->domainSync(['--dry-run'], ['OPSYNC_ENGINE' => 'command']);
        self::assertSame(0, $status, $err);
        [$status, , $err] = $this->world->domainSync(['--dry-run']);
        self::assertSame(0, $status, $err);
        [$command, $ffi] = $this->world->runs();
        self::assertSame(World::withoutRunTime($ffi['report_text']), World::withoutRunTime($command['report_text']));
        self::assertStringContainsString('8 domains would change', $command['subject']);
    }
}
