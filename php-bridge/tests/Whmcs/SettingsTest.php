<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use Opsync\Engine;
use Opsync\InvalidRequest;
use Opsync\Whmcs\Settings;
use PHPUnit\Framework\TestCase;

/**
 * Where each setting comes from: the addon > the module's advanced configuration >
 * defaults. The drop-in hands the places over raw (`Settings::raw`); the reading is the
 * engine's (`engine/src/run/settings.rs`), the one the native runner gets.
 */
final class SettingsTest extends TestCase
{
    private const REGISTRAR = ['Username' => 'reseller', 'Password' => 's&#101;cret', 'test_mode' => ''];

    /** What the Openprovider module ships with: the stand-in's copy of its advanced configuration. */
    private static function shipped(): array
    {
        return require __DIR__ . '/../standin' . Settings::ADVANCED_FILE;
    }

    /**
     * The engine's reading of the raw settings.
     *
     * @param array<string, string> $addon
     * @param ?array<string, mixed> $advanced
     * @param array<string, mixed> $registrar
     * @param array<string, string> $env
     * @return array<string, mixed>
     */
    private static function read(array $addon, ?array $advanced, array $registrar, array $env = []): array
    {
        $raw = Settings::raw($addon, $advanced, $registrar, 'admin', $env);
        $engine = new Engine(null, null, Engine::MODE_FFI);
        return json_decode($engine->settings((string) json_encode(['settings' => $raw])), true, 512, JSON_THROW_ON_ERROR);
    }

    /** @param array<string, mixed> $read */
    private static function source(array $read, string $key): string
    {
        foreach ($read['shown'] as $shown) {
            if ($shown['key'] === $key) {
                return $shown['source'];
            }
        }
        self::fail("no setting $key");
    }

    public function testAnOperatorsExistingModuleSettingsKeepTheMeaningTheModuleGaveThem(): void
    {
        $s = self::read([], self::shipped(), self::REGISTRAR);
        // syncUseNativeWHMCS true (as shipped): the module's cron synced status and expiry
        // but pushed neither auto-renew nor ID protection and moved no due dates.
        self::assertSame([
            'sync_status' => true,
            'sync_expiry_date' => true,
            'expiry_source' => 'renewal_date',
            'sync_due_date' => false,
            'due_date_offset_days' => 14,
            'due_date_max_shift_days' => 100,
            'sync_auto_renew' => false,
            'sync_whois_privacy' => false,
            'protected_statuses' => ['Fraud', 'Cancelled'],
            'mass_change_limit' => ['percent' => 10, 'min_rows' => 25],
        ], $s['policy']);
        self::assertSame('Openprovider module (syncUseNativeWHMCS)', self::source($s, 'sync_auto_renew'));
        self::assertSame('Openprovider module (syncUseNativeWHMCS)', self::source($s, 'syncUseNativeWHMCS'));
        self::assertSame('Openprovider module (renewalDateSync)', self::source($s, 'expiry_source'));
        self::assertSame(200, $s['batch']);
        self::assertSame(2, $s['min_age_hours'], 'updateInterval: hours a domain must have gone unsynced');
        self::assertSame('Openprovider module (updateInterval)', self::source($s, 'min_age_hours'));
        self::assertSame(1, $s['cron_interval_hours'], "updateInterval is not how often WHMCS's cron runs opsync");
        self::assertFalse($s['send_empty']);
        self::assertFalse($s['run_from_cron'], 'off by default');
        self::assertSame('https://api.openprovider.eu/v1beta', $s['api_url']);
        self::assertSame('secret', Settings::raw([], null, self::REGISTRAR, 'admin', [])['api']['password'], 'HTML entities in stored values are decoded');
        self::assertSame('Openprovider module (nextDueDateOffset)', self::source($s, 'due_date_offset_days'));
    }

    public function testZeroAndFalseInTheModulesFileCountThough(): void
    {
        $s = self::read([], ['nextDueDateOffset' => 0, 'syncAutoRenewSetting' => false, 'domainProcessingLimit' => 0, 'renewalDateSync' => false] + self::shipped(), self::REGISTRAR);
        self::assertSame(0, $s['policy']['due_date_offset_days']);
        self::assertFalse($s['policy']['sync_auto_renew']);
        self::assertSame('expiration_date', $s['policy']['expiry_source']);
        self::assertNull($s['batch'], '0 domains per run: all of them');
    }

    public function testTheAddonWinsAndItsEmptyValuesFollowTheModule(): void
    {
        $addon = [
            'due_date_offset_days' => '3',
            'sync_auto_renew' => '',
            'sync_whois_privacy' => 'off',
            'due_date_max_shift_days' => 'none',
            'protected_statuses' => 'Fraud, Cancelled, Transferred Away',
            'expiry_source' => 'expiration_date',
            'batch_size' => '0',
            'run_from_cron' => 'on',
            'cron_interval_hours' => '',
        ];
        $s = self::read($addon, self::shipped(), self::REGISTRAR);
        self::assertSame(3, $s['policy']['due_date_offset_days']);
        self::assertFalse($s['policy']['sync_auto_renew'], 'empty: as the module, whose syncUseNativeWHMCS pushes nothing');
        $s = self::read(['sync_auto_renew' => 'on'] + $addon, self::shipped(), self::REGISTRAR);
        self::assertTrue($s['policy']['sync_auto_renew'], "the addon's own setting wins over syncUseNativeWHMCS");
        $s = self::read($addon, ['syncUseNativeWHMCS' => false] + self::shipped(), self::REGISTRAR);
        self::assertTrue($s['policy']['sync_auto_renew'], 'empty, syncUseNativeWHMCS false: the module\'s syncAutoRenewSetting');
        self::assertFalse($s['policy']['sync_whois_privacy']);
        self::assertNull($s['policy']['due_date_max_shift_days']);
        self::assertSame(['Fraud', 'Cancelled', 'Transferred Away'], $s['policy']['protected_statuses']);
        self::assertSame('expiration_date', $s['policy']['expiry_source']);
        self::assertNull($s['batch']);
        self::assertTrue($s['run_from_cron']);
        self::assertSame(1, $s['cron_interval_hours']);
        self::assertSame('opsync addon', self::source($s, 'due_date_offset_days'));
    }

    public function testWithoutAnyConfigurationThePolicyIsTheContractsDefaultWithTheBrakeOn(): void
    {
        $s = self::read([], [], self::REGISTRAR);
        self::assertSame(['percent' => 10, 'min_rows' => 25], $s['policy']['mass_change_limit']);
        self::assertSame('default', self::source($s, 'mass_change_percent'));
        self::assertNull($s['batch']);
        self::assertSame(1, $s['cron_interval_hours']);
        self::assertStringStartsWith('Mass-change brake: on.', $s['brake']);
    }

    public function testTheBrakeMovesWithTheAddonsSettingsAndOneHundredPercentSwitchesItOff(): void
    {
        $s = self::read(['mass_change_percent' => '5', 'mass_change_min_rows' => '100'], [], self::REGISTRAR);
        self::assertSame(['percent' => 5, 'min_rows' => 100], $s['policy']['mass_change_limit']);
        self::assertSame('opsync addon', self::source($s, 'mass_change_percent'));
        $s = self::read(['mass_change_percent' => '100'], [], self::REGISTRAR);
        self::assertNull($s['policy']['mass_change_limit']);
        try {
            self::read(['mass_change_percent' => '120'], [], self::REGISTRAR);
            self::fail('120% was taken');
        } catch (InvalidRequest $e) {
            self::assertStringContainsString('mass_change_percent must be from 0 to 100', $e->getMessage());
        }
    }

    public function testTestModeUsesTheModulesTestAddressAndTheEnvironmentOverridesBoth(): void
    {
        // As shipped, the test address is plain http: allowed for exactly that address.
        $s = self::read([], self::shipped(), ['test_mode' => 'on'] + self::REGISTRAR);
        self::assertSame('http://api.sandbox.openprovider.nl:8480/v1beta', $s['api_url']);
        self::assertSame('Openprovider module (restapi_url_sandbox, test mode)', self::source($s, 'openprovider.base_url'));
        $s = self::read([], self::shipped(), self::REGISTRAR, ['OPSYNC_OP_BASE_URL' => 'http://127.0.0.1:4711/v1beta']);
        self::assertSame('http://127.0.0.1:4711/v1beta', $s['api_url']);
    }

    /** @return iterable<string, array{array<string, mixed>, array<string, string>, array<string, mixed>, string}> */
    public static function badSettings(): iterable
    {
        yield 'a word for a flag' => [['syncDomainStatus' => 'maybe'], [], self::REGISTRAR,
            'advanced-module-configurations.php: syncDomainStatus must be on or off, not "maybe"'];
        yield 'a word for a number in the addon' => [[], ['batch_size' => 'lots'], self::REGISTRAR,
            "the opsync addon's setting batch_size must be a whole number from 0 up, not \"lots\""];
        yield 'no credentials' => [[], [], ['Username' => '', 'Password' => ''],
            'the Openprovider registrar module has no Username or Password: set them under Setup > Products/Services > Domain Registrars > Openprovider'];
        yield 'plain http to the world' => [['api_url' => 'http://api.openprovider.eu'], [], self::REGISTRAR,
            'openprovider.base_url http://api.openprovider.eu must use https'];
        yield 'the test address while test mode is off' => [['api_url' => 'http://api.sandbox.openprovider.nl:8480'], [], self::REGISTRAR,
            'openprovider.base_url http://api.sandbox.openprovider.nl:8480 must use https'];
        yield 'an offset past ten years after' => [['nextDueDateOffset' => -3651], [], self::REGISTRAR,
            'advanced-module-configurations.php: nextDueDateOffset must be from -3650 to 3650'];
    }

    /**
     * @dataProvider badSettings
     * @param array<string, mixed> $advanced
     * @param array<string, string> $addon
     * @param array<string, mixed> $registrar
     */
    public function testABadSettingIsAnErrorNamingIt(array $advanced, array $addon, array $registrar, string $message): void
    {
        $this->expectException(InvalidRequest::class);
        $this->expectExceptionMessage($message);
        self::read($addon, $advanced, $registrar);
    }

    public function testTheModulesOffsetOfZeroAndTheAddonsSettingsReachTheRun(): void
    {
        $world = new World(
            'settings',
            World::demoRows(),
            World::demoDomains(),
            ['nextDueDateOffset' => 0, 'domainProcessingLimit' => 0, 'renewalDateSync' => false, 'syncUseNativeWHMCS' => false] + self::shipped(),
            ['sync_auto_renew' => 'off'],
        );
        try {
            [$status, $out, $err] = $world->install();
            self::assertSame(0, $status, $out . $err);
            [$status, , $err] = $world->domainSync();
            self::assertSame(0, $status, $err);
            self::assertSame('Active|2027-11-27|2027-11-27|2027-11-27', $world->row(104), 'offset 0: the due date is the expiry');
            $op = array_column($world->sandbox->domains(), null, 'id');
            self::assertSame('on', $op[9002]['autorenew'], "the addon's sync_auto_renew = off pushes no auto-renew");
            self::assertTrue($op[9003]['is_private_whois_enabled'], 'privacy still follows the module');
        } finally {
            $world->destroy();
        }
    }
}
