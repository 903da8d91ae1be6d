<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use Opsync\Whmcs\Settings;
use Opsync\Whmcs\SettingsError;
use PHPUnit\Framework\TestCase;

/** Where each setting comes from: the addon > the module's advanced configuration > defaults. */
final class SettingsTest extends TestCase
{
    private const REGISTRAR = ['Username' => 'reseller', 'Password' => 's&#101;cret', 'test_mode' => ''];

    /** What the Openprovider module ships with: the stand-in's copy of its advanced configuration. */
    private static function shipped(): array
    {
        return require __DIR__ . '/../standin' . Settings::ADVANCED_FILE;
    }

    public function testAnOperatorsExistingModuleSettingsCarryOver(): void
    {
        $s = Settings::resolve([], self::shipped(), self::REGISTRAR, []);
        self::assertSame([
            'sync_status' => true,
            'sync_expiry_date' => true,
            'expiry_source' => 'renewal_date',
            'sync_due_date' => true,
            'due_date_offset_days' => 14,
            'due_date_max_shift_days' => 100,
            'sync_auto_renew' => true,
            'sync_whois_privacy' => true,
            'mass_change_limit' => ['percent' => 10, 'min_rows' => 25],
        ], $s->policy);
        self::assertSame(200, $s->batchSize);
        self::assertSame(2, $s->cronIntervalHours);
        self::assertFalse($s->sendEmpty);
        self::assertFalse($s->runFromCron, 'off by default');
        self::assertSame('https://api.openprovider.eu/v1beta', $s->baseUrl);
        self::assertSame('secret', $s->password, 'HTML entities in stored values are decoded');
        self::assertSame('Openprovider module (nextDueDateOffset)', $s->sources['due_date_offset_days']);
    }

    public function testZeroAndFalseInTheModulesFileCountThough()
    {
        $s = Settings::resolve([], ['nextDueDateOffset' => 0, 'syncAutoRenewSetting' => false, 'domainProcessingLimit' => 0, 'renewalDateSync' => false] + self::shipped(), self::REGISTRAR, []);
        self::assertSame(0, $s->policy['due_date_offset_days']);
        self::assertFalse($s->policy['sync_auto_renew']);
        self::assertSame('expiration_date', $s->policy['expiry_source']);
        self::assertNull($s->batchSize, '0 domains per run: all of them');
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
        $s = Settings::resolve($addon, self::shipped(), self::REGISTRAR, []);
        self::assertSame(3, $s->policy['due_date_offset_days']);
        self::assertTrue($s->policy['sync_auto_renew'], 'empty: as the module');
        self::assertFalse($s->policy['sync_whois_privacy']);
        self::assertNull($s->policy['due_date_max_shift_days']);
        self::assertSame(['Fraud', 'Cancelled', 'Transferred Away'], $s->policy['protected_statuses']);
        self::assertSame('expiration_date', $s->policy['expiry_source']);
        self::assertNull($s->batchSize);
        self::assertTrue($s->runFromCron);
        self::assertSame(2, $s->cronIntervalHours);
        self::assertSame('opsync addon', $s->sources['due_date_offset_days']);
    }

    public function testWithoutAnyConfigurationThePolicyIsTheContractsDefaultWithTheBrakeOn(): void
    {
        $s = Settings::resolve([], [], self::REGISTRAR, []);
        self::assertSame(['mass_change_limit' => ['percent' => 10, 'min_rows' => 25]], $s->policy);
        self::assertSame('{"mass_change_limit":{"percent":10,"min_rows":25}}', $s->policyJson());
        self::assertSame('{"mass_change_limit":null}', $s->policyJson(allowMassChange: true), 'released for one run');
        self::assertSame('default', $s->sources['mass_change_limit']);
        self::assertNull($s->batchSize);
        self::assertSame(1, $s->cronIntervalHours);
    }

    public function testTheBrakeMovesWithTheAddonsSettingsAndOneHundredPercentSwitchesItOff(): void
    {
        $s = Settings::resolve(['mass_change_percent' => '5', 'mass_change_min_rows' => '100'], [], self::REGISTRAR, []);
        self::assertSame(['percent' => 5, 'min_rows' => 100], $s->policy['mass_change_limit']);
        self::assertSame('opsync addon', $s->sources['mass_change_limit']);
        $s = Settings::resolve(['mass_change_percent' => '100'], [], self::REGISTRAR, []);
        self::assertNull($s->policy['mass_change_limit']);
        try {
            Settings::resolve(['mass_change_percent' => '120'], [], self::REGISTRAR, []);
            self::fail('120% was taken');
        } catch (SettingsError $e) {
            self::assertStringContainsString('mass_change_percent must be from 0 to 100', $e->getMessage());
        }
    }

    public function testTestModeUsesTheModulesTestAddressAndTheEnvironmentOverridesBoth(): void
    {
        $s = Settings::resolve([], self::shipped(), ['test_mode' => 'on'] + self::REGISTRAR, []);
        self::assertSame('https://api.cte.openprovider.eu/v1beta', $s->baseUrl);
        $s = Settings::resolve([], self::shipped(), self::REGISTRAR, ['OPSYNC_OP_BASE_URL' => 'http://127.0.0.1:4711/v1beta']);
        self::assertSame('http://127.0.0.1:4711/v1beta', $s->baseUrl);
    }

    /** @return iterable<string, array{array<string, mixed>, array<string, string>, array<string, mixed>, string}> */
    public static function badSettings(): iterable
    {
        yield 'a word for a flag' => [['syncDomainStatus' => 'maybe'], [], self::REGISTRAR,
            'advanced-module-configurations.php: syncDomainStatus must be on or off, not "maybe"'];
        yield 'a negative offset' => [['nextDueDateOffset' => -3], [], self::REGISTRAR,
            'advanced-module-configurations.php: nextDueDateOffset must be a whole number from 0 up, not -3'];
        yield 'a word for a number in the addon' => [[], ['batch_size' => 'lots'], self::REGISTRAR,
            "the opsync addon's setting batch_size must be a whole number from 0 up, not \"lots\""];
        yield 'no credentials' => [[], [], ['Username' => '', 'Password' => ''],
            'the Openprovider registrar module has no Username or Password: set them under Setup > Products/Services > Domain Registrars > Openprovider'];
        yield 'plain http to the world' => [['restapi_url_sandbox' => 'http://api.sandbox.openprovider.nl:8480'], [], ['test_mode' => 'on'] + self::REGISTRAR,
            'the Openprovider API address http://api.sandbox.openprovider.nl:8480/v1beta (Openprovider module (restapi_url_sandbox, test mode)) must use https (plain http only to 127.0.0.1, for tests)'];
    }

    /**
     * @dataProvider badSettings
     * @param array<string, mixed> $advanced
     * @param array<string, string> $addon
     * @param array<string, mixed> $registrar
     */
    public function testABadSettingIsAnErrorNamingIt(array $advanced, array $addon, array $registrar, string $message): void
    {
        $this->expectException(SettingsError::class);
        $this->expectExceptionMessage($message);
        Settings::resolve($addon, $advanced, $registrar, []);
    }

    public function testTheModulesOffsetOfZeroAndTheAddonsSettingsReachTheRun(): void
    {
        $world = new World(
            'settings',
            World::demoRows(),
            World::demoDomains(),
            ['nextDueDateOffset' => 0, 'domainProcessingLimit' => 0, 'renewalDateSync' => false] + self::shipped(),
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
