<?php

declare(strict_types=1);

namespace Opsync\Tests\Browser;

use Opsync\Tests\Whmcs\Process;
use Opsync\Tests\Whmcs\World;
use PHPUnit\Framework\TestCase;

/**
 * The addon page in a real browser (headless Chromium, tests/chromium/addon-page.mjs),
 * served by PHP's own web server from the stand-in WHMCS as a web server runs PHP: PHP's
 * default `ffi.enable=preload` (FFI off outside the command line), an empty environment
 * (as FPM's clear_env leaves it), `proc_open` and its kin disabled, `max_execution_time`
 * 30. Then again with the engine preloaded (preload.php, INSTALL.md). A forged POST from
 * another origin is refused each time. Run by `make addon-test`.
 */
final class AddonBrowserTest extends TestCase
{
    private const DISABLED = 'proc_open,popen,exec,shell_exec,system,passthru';

    private World $world;
    /** @var list<Process> */
    private array $servers = [];
    private string $forgeDir;

    protected function setUp(): void
    {
        // The module's test mode points at the sandbox: the page's environment is empty,
        // so the address comes from the module's own file, as on a real server.
        $this->world = new World('browser', World::demoRows(), World::demoDomains(), null, [], ['test_mode' => 'on']);
        $shipped = require "{$this->world->root}/modules/registrars/openprovider/configuration/advanced-module-configurations.php";
        $base = (string) preg_replace('#/v1beta$#', '', $this->world->sandbox->baseUrl);
        $this->world->advanced(['restapi_url_sandbox' => $base, 'domainProcessingLimit' => 0] + $shipped);
        [$status, $out, $err] = $this->world->install();
        self::assertSame(0, $status, $out . $err);
        $this->forgeDir = sys_get_temp_dir() . '/opsync-forge-' . getmypid();
        @mkdir($this->forgeDir);
    }

    protected function tearDown(): void
    {
        foreach ($this->servers as $server) {
            $server->stop();
        }
        @unlink("{$this->forgeDir}/forge.html");
        @rmdir($this->forgeDir);
        $this->world->destroy();
    }

    public function testThePageUnderAWebServerSaysWhatToConfigureHandsWorkToCronAndRefusesAForgedPost(): void
    {
        $page = $this->serve($this->world->root, []);
        $seen = $this->browse($page, 'Plan at the next cron run', World::repository() . '/target/addon-page.png');

        self::assertSame(200, $seen['opened']['status']);
        $text = $seen['opened']['text'];
        self::assertStringNotContainsString('Fatal error', $text);
        self::assertStringContainsString('opsync cannot run inside this web request (', $text);
        self::assertStringContainsString('FFI is off for this web server', $text);
        self::assertStringContainsString('proc_open is disabled on this server', $text);
        self::assertSame(['Plan at the next cron run', 'Sync at the next cron run'], $seen['opened']['buttons']);

        self::assertStringContainsString('A plan was handed to the next cron run at ', $seen['clicked']['text']);
        self::assertStringNotContainsString('Fatal error', $seen['clicked']['text']);

        self::assertSame(403, $seen['forged']['status'], 'the forged POST is stopped');
        self::assertStringContainsString('STAND-IN check_token', $seen['forged']['text']);
        self::assertSame(['plan'], $this->queued(), 'the forged sync_release was not queued');

        // WHMCS's cron runs (the command line: FFI works there): the hook carries the plan out.
        [$status, , $err] = $this->world->insideWhmcs("require ROOTDIR . '/modules/addons/opsync/hooks.php';\nstandin_run_hook('AfterCronJob');");
        self::assertSame(0, $status, $err);
        self::assertSame([], $this->queued());
        $after = $this->browse($page, 'Plan at the next cron run', World::repository() . '/target/addon-page-planned.png');
        self::assertMatchesRegularExpression('/A plan asked for at [0-9: -]+ ended at [0-9: -]+ with exit status 0\./', $after['opened']['text']);
        self::assertStringContainsString('[dry run] Domain Synchronisation Report: 7 domains would change', $after['opened']['text']);
    }

    public function testWithTheEnginePreloadedThePagePlansOnTheSpot(): void
    {
        $addon = "{$this->world->root}/modules/addons/opsync";
        $preload = ['-d', "ffi.preload=$addon/include/opsync-preload.h", '-d', "opcache.preload=$addon/preload.php"];
        if (\function_exists('posix_geteuid') && posix_geteuid() === 0) {
            $preload = [...$preload, '-d', 'opcache.preload_user=root'];
        }
        $page = $this->serve($this->world->root, $preload);
        $seen = $this->browse($page, 'Plan (change nothing)', World::repository() . '/target/addon-page-preloaded.png');

        self::assertSame(200, $seen['opened']['status']);
        self::assertStringNotContainsString('cannot run inside this web request', $seen['opened']['text']);
        self::assertStringContainsString('Settings in effect', $seen['opened']['text']);
        self::assertSame(['Plan (change nothing)', 'Sync at the next cron run'], $seen['opened']['buttons']);
        $plan = $seen['clicked']['text'];
        self::assertStringContainsString('Plan: what a sync would change (nothing was written)', $plan);
        self::assertStringContainsString('[dry run] Domain Synchronisation Report: 7 domains would change', $plan);
        self::assertSame(403, $seen['forged']['status']);
        self::assertSame([], $this->queued(), 'nothing was handed to cron, the forged POST least of all');
    }

    /** @return list<string> what waits for cron */
    private function queued(): array
    {
        return array_map(
            static fn (string $v): string => (string) (json_decode($v, true)['what'] ?? '?'),
            $this->world->texts("SELECT CAST(value AS CHAR) FROM opsync_state WHERE name = 'queued'")
        );
    }

    /**
     * Serves `$root` with PHP's web server as a web server runs PHP; its address.
     *
     * @param list<string> $ini
     */
    private function serve(string $root, array $ini): string
    {
        $port = self::freePort();
        $server = new Process(
            [PHP_BINARY, '-d', 'disable_functions=' . self::DISABLED, '-d', 'max_execution_time=30', ...$ini,
                '-S', "127.0.0.1:$port", '-t', $root],
            []
        );
        $this->servers[] = $server;
        for ($i = 0; $i < 100; $i++) {
            $socket = @fsockopen('127.0.0.1', $port, $code, $message, 0.1);
            if ($socket !== false) {
                fclose($socket);
                return "http://127.0.0.1:$port";
            }
            usleep(100_000);
        }
        self::fail("PHP's web server did not start: " . implode(' ', $server->stop()));
    }

    /**
     * The page seen through the browser: opened, after clicking `$click`, and after a forged
     * POST from another origin.
     *
     * @return array<string, array{status: ?int, text: string, buttons: list<string>}>
     */
    private function browse(string $server, string $click, string $shot): array
    {
        $url = "$server/admin/addonmodules.php?module=opsync";
        file_put_contents("{$this->forgeDir}/forge.html", '<!DOCTYPE html><form id="f" method="post" action="'
            . htmlspecialchars($url) . '"><input name="opsync_action" value="sync_release"></form>'
            . '<script>document.getElementById("f").submit()</script>');
        $forge = $this->serve($this->forgeDir, []);
        @mkdir(\dirname($shot), 0777, true);
        $node = trim((string) shell_exec('command -v node'));
        [$status, $out, $err] = World::run(
            [$node, World::repository() . '/php-bridge/tests/chromium/addon-page.mjs', '--page', $url, '--click', $click,
                '--forge', "$forge/forge.html", '--shot', $shot],
            ['PATH' => (string) getenv('PATH'), 'HOME' => sys_get_temp_dir()]
        );
        $seen = json_decode($out, true);
        self::assertIsArray($seen, "addon-page.mjs said: $out$err");
        self::assertSame(0, $status, ($seen['error'] ?? '') . $err);
        return $seen;
    }

    private static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        self::assertNotFalse($socket);
        $name = (string) stream_socket_get_name($socket, false);
        fclose($socket);
        return (int) substr($name, strrpos($name, ':') + 1);
    }
}
