<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use PHPUnit\Framework\TestCase;

/**
 * The drop-in end to end: installed by the real installer into a stand-in WHMCS root, run
 * as cron runs it (`php .../cron/DomainSync.php`) against MariaDB and `op-sandbox`.
 */
final class DropInTest extends TestCase
{
    /** @var list<World> */
    private array $worlds = [];

    protected function tearDown(): void
    {
        foreach ($this->worlds as $world) {
            $world->destroy();
        }
    }

    private function world(string $name, ?array $rows = null, ?array $domains = null, ?array $advanced = null, array $addon = []): World
    {
        $world = $advanced === null
            ? new World($name, $rows ?? World::demoRows(), $domains ?? World::demoDomains(), addon: $addon)
            : new World($name, $rows ?? World::demoRows(), $domains ?? World::demoDomains(), $advanced, $addon);
        $this->worlds[] = $world;
        [$status, $out, $err] = $world->install();
        self::assertSame(0, $status, $out . $err);
        return $world;
    }

    public function testTheInstallerPutsEverythingInPlaceAndKeepsTheOldCron(): void
    {
        $original = (string) file_get_contents(__DIR__ . '/../standin/modules/registrars/openprovider/cron/DomainSync.php');
        $world = $this->world('install');
        $cron = "{$world->root}/modules/registrars/openprovider/cron";
        self::assertSame($original, file_get_contents("$cron/DomainSync.php.orig"), "the module's file, byte for byte");
        self::assertSame(0700, fileperms("{$world->root}/modules/addons/opsync/private") & 0777, 'the token folder is private');
        self::assertStringContainsString(
            '#define FFI_LIB "' . "{$world->root}/modules/addons/opsync/lib/libopsync_php.so" . '"',
            (string) file_get_contents("{$world->root}/modules/addons/opsync/include/opsync-preload.h")
        );
        self::assertStringContainsString("opsync, at the path of the Openprovider module's old DomainSync.php cron", (string) file_get_contents("$cron/DomainSync.php"));
        foreach (['opsync.php', 'hooks.php', 'cron.php', 'delegate.php', 'preload.php', 'INSTALL.md', 'src/autoload.php', 'src/Engine.php', 'src/Whmcs/WhmcsHost.php', 'include/opsync.h', 'lib/libopsync_php.so'] as $file) {
            self::assertFileExists("{$world->root}/modules/addons/opsync/$file");
        }
        // Installing again (an upgrade) keeps the module's file, not ours, as the .orig.
        [$status, $out] = $world->install();
        self::assertSame(0, $status);
        self::assertStringContainsString('has_domains_to_process', (string) file_get_contents("$cron/DomainSync.php.orig"));
        self::assertStringContainsString('Left to do by hand', $out);
    }

    public function testAModuleUpdateThatPutsItsCronBackIsNamedOnThePageAndTheAddonsEntryPointStillRuns(): void
    {
        $world = $this->world('module_update');
        $cron = "{$world->root}/modules/registrars/openprovider/cron/DomainSync.php";
        // Before: the old crontab line runs opsync through the shim.
        [$status, , $err] = $world->domainSync(['--dry-run']);
        self::assertSame(0, $status, $err);
        // The module's updater copies its tree back (`cp -r`): its own, broken, cron file.
        copy(__DIR__ . '/../standin/modules/registrars/openprovider/cron/DomainSync.php', $cron);
        [$status, $out] = World::run([PHP_BINARY, $cron], $world->env([]));
        self::assertStringContainsString('has_domains_to_process', $out, 'the old path now runs the broken script');
        [$status, $out, $err] = $world->insideWhmcs("require ROOTDIR . '/modules/addons/opsync/opsync.php';\n"
            . 'opsync_output(["modulelink" => "addonmodules.php?module=opsync"]);');
        self::assertSame(0, $status, $err);
        self::assertStringContainsString('own cron/DomainSync.php back: a crontab that runs it now runs a script that dies', $out);
        self::assertStringContainsString("{$world->root}/modules/addons/opsync/cron.php", $out);
        // opsync's own entry point is where the update does not reach.
        [$status, , $err] = World::run([PHP_BINARY, "{$world->root}/modules/addons/opsync/cron.php", '--dry-run'], $world->env([]));
        self::assertSame(0, $status, $err);
        self::assertSame(['dry-run', 'dry-run'], array_column($world->runs(), 'mode'));
        // ... and the report says it too, as its first error, in a body WHMCS can wrap.
        $mail = array_values(array_slice($world->mails(), -1))[0]['values'];
        self::assertStringContainsString('setup_problem', $mail['custommessage']);
        self::assertStringContainsString('own cron/DomainSync.php back: a crontab that runs it now runs a script that dies', $mail['custommessage']);
        self::assertStringNotContainsString('<html', $mail['custommessage'], 'a fragment, not a document');
        self::assertStringStartsWith('<h2>', $mail['custommessage']);
        // Installing again puts the shim back and keeps the module's file once.
        [$status] = $world->install();
        self::assertSame(0, $status);
        self::assertFileDoesNotExist("$cron.orig.2", 'the same file is not kept twice');
        self::assertStringContainsString(\Opsync\Whmcs\ModuleFiles::SHIM_MARKER, (string) file_get_contents($cron));
    }

    public function testTheCronRunsFromPhpCgiAsCrontabsOftenCallIt(): void
    {
        // Debian's php-cgi (make test installs it).
        $cgi = trim((string) shell_exec('command -v php-cgi'));
        self::assertNotSame('', $cgi, 'php-cgi is missing (apt-get install php-cgi)');
        $world = $this->world('cgi');
        $cron = "{$world->root}/modules/addons/opsync/cron.php";
        // FFI is for `php` only under the default ffi.enable=preload: one line says what to do.
        [$status, $out, $err] = World::run([$cgi, '-q', $cron, '--dry-run'], $world->env(['OPSYNC_ENGINE' => 'ffi']));
        self::assertSame(5, $status, $out . $err);
        self::assertStringContainsString('FFI is off for php-cgi (ffi.enable=preload allows it for php only): run the cron with php, or with php-cgi -d ffi.enable=1', $out . $err);
        // As the line says; the arguments arrive as on the command line (php-cgi hands them over as the query).
        [$status, $out, $err] = World::run([$cgi, '-d', 'ffi.enable=1', '-q', $cron, '--dry-run'], $world->env(['OPSYNC_ENGINE' => 'ffi']));
        self::assertSame(0, $status, $out . $err);
        self::assertSame(['dry-run'], array_column($world->runs(), 'mode'));
    }

    public function testTheInstallerRefusesAFolderThatIsNoWhmcsAndADryRunWritesNothing(): void
    {
        $empty = sys_get_temp_dir() . '/opsync-not-whmcs-' . getmypid();
        @mkdir($empty);
        [$status, , $err] = World::run([PHP_BINARY, World::repository() . '/php-bridge/bin/opsync-whmcs-install.php', $empty]);
        self::assertSame(2, $status);
        self::assertSame("opsync-whmcs-install: $empty is not a WHMCS root: it has no init.php\n", $err);
        rmdir($empty);

        $world = new World('installdry', [], []);
        $this->worlds[] = $world;
        [$status, $out] = $world->install('--dry-run');
        self::assertSame(0, $status);
        self::assertStringStartsWith('Dry run: nothing is written.', $out);
        self::assertStringContainsString('would keep', $out);
        self::assertDirectoryDoesNotExist("{$world->root}/modules/addons/opsync");
        self::assertFileDoesNotExist("{$world->root}/modules/registrars/openprovider/cron/DomainSync.php.orig");
    }

    public function testTheDemoFixtureSyncsRuleByRuleAndTheSecondRunChangesNothing(): void
    {
        $world = $this->world('demo');
        [$status, $out, $err] = $world->domainSync();
        self::assertSame(0, $status, $out . $err);
        self::assertSame('', $err);

        // The native end-to-end test's expectations, rule by rule (host-runner/tests/sync_e2e.rs).
        self::assertSame('Active|2027-03-14|2026-03-04|2026-03-04', $world->row(101), 'the guard holds the due date');
        self::assertSame('Active|2027-11-27|2027-11-17|2027-11-17', $world->row(104));
        self::assertSame('Expired|2026-10-01|2026-09-21|2026-09-21', $world->row(105));
        self::assertSame('Pending Registration|0000-00-00|0000-00-00|0000-00-00', $world->row(106));
        self::assertSame('Active|2027-01-01|2026-12-22|2026-12-22', $world->row(108));
        self::assertSame('Fraud|2020-01-01|2020-01-01|2020-01-01', $world->row(109));
        self::assertSame('Active|2027-10-10|2027-09-30|2027-09-30', $world->row(115));
        self::assertSame('Active|2027-08-08|2027-07-29|2027-07-29', $world->row(112));
        self::assertSame('', $world->texts('SELECT reminders FROM tbldomains WHERE id = 101')[0], 'a new expiry clears the reminders');

        $op = [];
        foreach ($world->sandbox->domains() as $d) {
            $op[$d['id']] = $d;
        }
        self::assertSame('off', $op[9002]['autorenew']);
        self::assertFalse($op[9002]['is_private_whois_enabled']);
        self::assertTrue($op[9003]['is_private_whois_enabled']);
        self::assertSame('default', $op[9007]['autorenew'], 'the IDN row paired with its punycode record');
        self::assertSame('on', $op[9009]['autorenew'], 'a Fraud row pushes nothing');
        self::assertSame('default', $op[9013]['autorenew'], 'PEN: not modifiable, nothing pushed');
        self::assertSame(3, $world->sandbox->counters()['update']);
        self::assertSame(2, $world->sandbox->counters()['list'], 'one page of the bulk listing, one look-up of the deleted (transferred-out.com)');

        $activity = $world->activity();
        self::assertContains('Domain Sync (opsync): Modified Domain - renewed-at-registrar.com - Expiry Date changed from 2026-03-14 to 2027-03-14 - Domain ID: 101', $activity);
        self::assertContains('Domain Sync (opsync): Modified Domain - customer-cancelled.nl - Openprovider Auto Renew changed from on to off - Domain ID: 102', $activity);
        self::assertSame(['System'], array_values(array_unique($world->texts('SELECT user FROM tblactivitylog'))), 'written through logActivity');

        $mails = $world->mails();
        self::assertCount(1, $mails);
        self::assertSame('system', $mails[0]['values']['type']);
        self::assertSame('Domain Synchronisation Report: 8 domains changed, 2 new errors, 5 new warnings', $mails[0]['values']['customsubject']);
        self::assertStringContainsString('<td>108</td><td><a href="https://billing.example.com/admin/clientsdomains.php?userid=1&amp;id=108">'
            . 'transferred-out.com</a></td><td>not_in_openprovider</td>', $mails[0]['values']['custommessage'], 'each domain links to its WHMCS admin page');
        self::assertStringContainsString('set it to Transferred Away in WHMCS', $mails[0]['values']['custommessage'], 'advice per code');
        self::assertStringStartsWith('Domain Synchronisation Report: 8 domains changed', $out, 'a report worth sending is printed');

        $log = $world->texts("SELECT CONCAT(action, ' ', request) FROM tblmodulelog");
        self::assertContains('POST /auth/login {"ip":"0.0.0.0","password":"*************","username":"opsync-demo"}', $log);
        self::assertSame([], array_filter($world->texts('SELECT CONCAT(request, response) FROM tblmodulelog'), static fn (string $l) => str_contains($l, 'demo-password')));
        $login = $world->texts("SELECT response FROM tblmodulelog WHERE action = 'POST /auth/login'")[0];
        self::assertSame('(the answer holds the session token: not logged)', $login, 'the new token is not in the module log');

        $before = $world->allRows();
        [$status, , $err] = $world->domainSync();
        self::assertSame(0, $status, $err);
        self::assertSame($before, $world->allRows(), 'the second run changes nothing');
        self::assertSame(3, $world->sandbox->counters()['update'], 'nothing pushed on the second run');
        $runs = $world->runs();
        self::assertCount(2, $runs);
        self::assertSame(['whmcs', 'sync', '14', '8'], [$runs[0]['host'], $runs[0]['mode'], (string) $runs[0]['rows_checked'], (string) $runs[0]['changed_rows']]);
        self::assertSame('0', (string) $runs[1]['changed_rows']);
        self::assertSame(['0', '0'], array_map(static fn (array $r) => (string) $r['exit_status'], $runs));
        $steps = json_decode($runs[0]['steps'], true);
        self::assertSame(
            ['lock', 'read_whmcs', 'read_openprovider', 'decide', 'apply_openprovider', 'apply_whmcs', 'cursor', 'report', 'mail'],
            array_column($steps, 'step'),
            'every step of the first run is timed, in order'
        );
        foreach ($steps as $step) {
            self::assertGreaterThanOrEqual(0.0, $step['seconds']);
        }
        self::assertSame(
            ['lock', 'read_whmcs', 'read_openprovider', 'decide', 'apply_openprovider', 'apply_whmcs', 'cursor', 'report'],
            array_column(json_decode($runs[1]['steps'], true), 'step'),
            'nothing new on the second run: no mail step'
        );
        self::assertCount(1, $world->mails(), 'nothing new: no second mail');
        self::assertCount(7, $world->texts('SELECT code FROM opsync_problems'), 'the 7 problems are remembered as open');
    }

    public function testADryRunWritesNothingAndReportsWhatWouldChange(): void
    {
        $world = $this->world('dry');
        $before = $world->allRows();
        [$status, , $err] = $world->domainSync(['--dry-run']);
        self::assertSame(0, $status, $err);
        self::assertSame($before, $world->allRows());
        self::assertSame([], $world->activity());
        self::assertSame(0, $world->sandbox->counters()['update']);
        self::assertSame('[dry run] Domain Synchronisation Report: 8 domains would change, 2 new errors, 5 new warnings', $world->mails()[0]['values']['customsubject']);
        self::assertSame([], $world->texts('SELECT code FROM opsync_problems'), 'a dry run remembers nothing');
        self::assertSame('dry-run', $world->runs()[0]['mode']);
    }

    public function testTheCronIsRefusedOverTheWebAndBadArgumentsAreOneLine(): void
    {
        $world = $this->world('args');
        [$status, , $err] = $world->domainSync(['--batch', 'many']);
        self::assertSame(2, $status);
        self::assertSame("opsync: --batch needs a number of domains, not \"many\"\n", $err);
        [$status, $out] = $world->domainSync(['--help']);
        self::assertSame(0, $status);
        self::assertStringContainsString('--dry-run', $out);
        [$status, , $err] = $world->domainSync(['--dry-run', '--verbose']);
        self::assertSame(0, $status, $err);
        self::assertMatchesRegularExpression('/^opsync: taking the run lock\nopsync: step lock took \\d+\\.\\d{3} s\n'
            . 'opsync: reading WHMCS\nopsync: read 14 WHMCS rows\nopsync: step read_whmcs took \\d+\\.\\d{3} s\n'
            . 'opsync: reading Openprovider for 14 WHMCS rows\nopsync: looking 1 missing domains up among the deleted\n'
            . 'opsync: step read_openprovider took /', $err, 'each step and its time, as it ends');

        // A run that cannot complete says why in one line, with status 5.
        self::assertFileExists("{$world->root}/token.json", 'the token is cached between runs');
        unlink("{$world->root}/token.json");
        file_put_contents("{$world->root}/standin-registrar.json", json_encode(['openprovider' => ['Username' => 'opsync-demo', 'Password' => 'wrong', 'test_mode' => '']]));
        [$status, $out, $err] = $world->domainSync();
        self::assertSame(5, $status);
        self::assertSame('', $out);
        self::assertSame("opsync: Openprovider rejected the username or password (code 196)\n", $err);
        $failed = $world->runs()[\count($world->runs()) - 1];
        self::assertSame(
            ['failed', '5', 'opsync: the run did not complete: Openprovider rejected the username or password (code 196)'],
            [$failed['mode'], (string) $failed['exit_status'], $failed['subject']],
            'a run that could not complete is in the history'
        );
        self::assertSame(
            ['lock', 'read_whmcs', 'read_openprovider'],
            array_column(json_decode($failed['steps'], true), 'step'),
            'the steps it got through'
        );

        // Served over the web (PHP's built-in server), the file refuses before WHMCS loads.
        $runs = \count($world->runs());
        $port = 20000 + getmypid() % 20000;
        $server = proc_open(
            [PHP_BINARY, '-S', "127.0.0.1:$port", '-t', $world->root],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes
        );
        $url = "http://127.0.0.1:$port/modules/registrars/openprovider/cron/DomainSync.php";
        $body = false;
        for ($i = 0; $i < 50 && $body === false; $i++) {
            usleep(100_000);
            $curl = curl_init($url);
            curl_setopt($curl, CURLOPT_RETURNTRANSFER, true);
            $body = curl_exec($curl);
            $code = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        }
        proc_terminate($server);
        proc_close($server);
        self::assertSame(403, $code ?? null);
        self::assertSame("ACCESS DENIED. CONFIGURE CLI CRON.\n", $body);
        self::assertCount($runs, $world->runs(), 'nothing ran');
    }
}
