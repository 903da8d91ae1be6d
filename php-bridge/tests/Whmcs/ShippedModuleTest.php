<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use PHPUnit\Framework\TestCase;

/**
 * The drop-in end to end on what a real WHMCS holds on day one: the Openprovider module's
 * advanced configuration as it ships (the stand-in's copy: syncUseNativeWHMCS true,
 * nextDueDateOffset 14, updateInterval 2, domainProcessingLimit 200, renewalDateSync true),
 * test mode against the module's own test address, and the settings an admin changes.
 */
final class ShippedModuleTest extends TestCase
{
    /**
     * Three rows a month behind Openprovider, each wanting auto-renew and privacy other
     * than Openprovider has them; due dates 14 days before the old expiry.
     *
     * @return list<string>
     */
    private static function rows(): array
    {
        $row = static fn (int $id, string $domain): string => 'INSERT INTO tbldomains (id, userid, domain, registrar, status, '
            . 'expirydate, nextduedate, nextinvoicedate, donotrenew, idprotection, reminders, subscriptionid, additionalnotes, '
            . "paymentmethod) VALUES ($id, 1, '$domain', 'openprovider', 'Active', '2027-05-01', '2027-04-17', '2027-04-17', "
            . "0, 1, '', '', '', '')";
        return [$row(301, 'alpha.com'), $row(302, 'bravo.nl'), $row(303, 'charlie.eu')];
    }

    /** @return list<array<string, mixed>> */
    private static function domains(): array
    {
        $domain = static fn (int $id, string $name, string $extension): array => [
            'id' => $id, 'domain' => ['name' => $name, 'extension' => $extension], 'status' => 'ACT',
            'expiration_date' => '2027-06-05 00:00:00', 'renewal_date' => '2027-06-01 00:00:00',
            'autorenew' => 'off', 'is_private_whois_enabled' => false, 'is_private_whois_allowed' => true,
            'is_deleted' => false,
        ];
        return [$domain(7301, 'alpha', 'com'), $domain(7302, 'bravo', 'nl'), $domain(7303, 'charlie', 'eu')];
    }

    /** @return array<int, array<string, mixed>> the sandbox's domains by id */
    private static function byId(World $world): array
    {
        return array_column($world->sandbox->domains(), null, 'id');
    }

    public function testTheShippedDefaultsSyncStatusAndExpiryAndPushNothing(): void
    {
        $world = new World('shipped', self::rows(), self::domains(), null);
        try {
            [$status, $out, $err] = $world->install();
            self::assertSame(0, $status, $out . $err);
            // bravo.nl was synced an hour ago: updateInterval 2 leaves it out of this batch.
            $world->pdo()->exec('CREATE TABLE IF NOT EXISTS opsync_sync_state (domain_id INT NOT NULL PRIMARY KEY, last_sync VARCHAR(19) NOT NULL)');
            $world->pdo()->exec("INSERT INTO opsync_sync_state VALUES (302, '" . date('Y-m-d H:i:s', time() - 3600) . "')");
            [$status, , $err] = $world->domainSync();
            self::assertSame(0, $status, $err);
            // renewalDateSync true: the renewal date is the expiry; syncUseNativeWHMCS true:
            // the due date stays where it was and nothing is pushed to Openprovider.
            self::assertSame('Active|2027-06-01|2027-04-17|2027-04-17', $world->row(301));
            self::assertSame('Active|2027-05-01|2027-04-17|2027-04-17', $world->row(302), 'synced an hour ago: left for later');
            self::assertSame('Active|2027-06-01|2027-04-17|2027-04-17', $world->row(303));
            self::assertSame(0, $world->sandbox->counters()['update'], 'no auto-renew or privacy pushed');
            self::assertSame('off', self::byId($world)[7301]['autorenew']);
        } finally {
            $world->destroy();
        }
    }

    public function testSyncUseNativeWhmcsFalseAndANegativeOffsetMoveDueDatesAfterTheExpiry(): void
    {
        $shipped = require __DIR__ . '/../standin/modules/registrars/openprovider/configuration/advanced-module-configurations.php';
        $advanced = ['syncUseNativeWHMCS' => false, 'nextDueDateOffset' => -7, 'domainProcessingLimit' => 0] + $shipped;
        $world = new World('native_off', self::rows(), self::domains(), $advanced);
        try {
            [$status, $out, $err] = $world->install();
            self::assertSame(0, $status, $out . $err);
            [$status, , $err] = $world->domainSync(['--allow-mass-change']);
            self::assertSame(0, $status, $err);
            // The expiry moves to 2027-06-01, the due date seven days after it (the move of
            // 52 days is within nextDueDateUpdateMaxDayDifference 100).
            self::assertSame('Active|2027-06-01|2027-06-08|2027-06-08', $world->row(301));
            $op = self::byId($world);
            self::assertNotSame('off', $op[7301]['autorenew'], "WHMCS's auto-renew pushed");
            self::assertTrue($op[7301]['is_private_whois_enabled'], "WHMCS's ID protection pushed");
            self::assertSame(3, $world->sandbox->counters()['update']);
        } finally {
            $world->destroy();
        }
    }

    public function testTheAddonsExclusionsAndRulesPerExtensionHold(): void
    {
        $shipped = require __DIR__ . '/../standin/modules/registrars/openprovider/configuration/advanced-module-configurations.php';
        $advanced = ['syncUseNativeWHMCS' => false, 'domainProcessingLimit' => 0] + $shipped;
        $addon = ['exclude_domains' => 'Alpha.COM', 'by_extension' => "eu: due_date_offset_days = 30, sync_auto_renew = no"];
        $world = new World('book_rules', self::rows(), self::domains(), $advanced, $addon);
        try {
            [$status, $out, $err] = $world->install();
            self::assertSame(0, $status, $out . $err);
            [$status, , $err] = $world->domainSync(['--allow-mass-change']);
            self::assertSame(0, $status, $err);
            self::assertSame('Active|2027-05-01|2027-04-17|2027-04-17', $world->row(301), 'excluded: left alone');
            self::assertSame('Active|2027-06-01|2027-05-18|2027-05-18', $world->row(302), "the module's offset (14 days)");
            self::assertSame('Active|2027-06-01|2027-05-02|2027-05-02', $world->row(303), ".eu's own offset (30 days)");
            $op = self::byId($world);
            self::assertSame('off', $op[7301]['autorenew'], 'nothing pushed for the excluded domain');
            self::assertFalse($op[7301]['is_private_whois_enabled']);
            self::assertNotSame('off', $op[7302]['autorenew'], "WHMCS's auto-renew pushed for .nl");
            self::assertSame('off', $op[7303]['autorenew'], '.eu pushes no auto-renew');
            self::assertTrue($op[7303]['is_private_whois_enabled'], '... but its ID protection');
            $report = $world->runs()[0]['report_text'];
            self::assertStringContainsString('excluded 1', $report);
        } finally {
            $world->destroy();
        }
    }

    public function testTestModeRunsAgainstTheModulesOwnTestAddressOverPlainHttp(): void
    {
        $world = new World('test_mode', self::rows(), self::domains(), null, [], ['test_mode' => 'on']);
        try {
            // The module's test environment at this sandbox, by a name other than 127.x:
            // only being the module's test address lets it be plain http.
            $port = (int) parse_url($world->sandbox->baseUrl, PHP_URL_PORT);
            $shipped = require "{$world->root}/modules/registrars/openprovider/configuration/advanced-module-configurations.php";
            $world->advanced(['restapi_url_sandbox' => "http://localhost:$port"] + $shipped);
            [$status, $out, $err] = $world->install();
            self::assertSame(0, $status, $out . $err);
            [$status, , $err] = $world->domainSync([], ['OPSYNC_OP_BASE_URL' => '']);
            self::assertSame(0, $status, $err);
            self::assertSame('Active|2027-06-01|2027-04-17|2027-04-17', $world->row(301));
            self::assertSame(1, $world->sandbox->counters()['login']);

            // Test mode off: the live address must be https, and plain http is refused.
            $world->advanced(['api_url' => "http://localhost:$port"] + $shipped);
            file_put_contents("{$world->root}/standin-registrar.json", json_encode(['openprovider' => [
                'Username' => $world->sandbox->username, 'Password' => $world->sandbox->password, 'test_mode' => '',
            ]]));
            [$status, , $err] = $world->domainSync([], ['OPSYNC_OP_BASE_URL' => '']);
            self::assertSame(5, $status, $err);
            self::assertStringContainsString("openprovider.base_url http://localhost:$port must use https", $err);
        } finally {
            $world->destroy();
        }
    }

    public function testRunsNeedNoRightToChangeTheSchemaAndAMissingTableIsOneLine(): void
    {
        $world = new World('dml_only', self::rows(), self::domains(), null);
        $user = 'opsync_dml_' . getmypid();
        $root = World::connect('test');
        try {
            [$status, $out, $err] = $world->install();
            self::assertSame(0, $status, $out . $err);
            // The addon was activated (its tables created) with full rights; runs get only these.
            foreach (['127.0.0.1', 'localhost'] as $host) {
                $root->exec("CREATE USER '$user'@'$host' IDENTIFIED BY 'dml-password'");
                $root->exec("GRANT SELECT, INSERT, UPDATE, DELETE ON `{$world->database}`.* TO '$user'@'$host'");
            }
            file_put_contents("{$world->root}/configuration.php", "<?php\n\$db_host = '127.0.0.1';\n\$db_port = '3306';\n"
                . "\$db_username = '$user';\n\$db_password = 'dml-password';\n\$db_name = '{$world->database}';\n");
            [$status, , $err] = $world->domainSync();
            self::assertSame(0, $status, $err);
            self::assertSame('Active|2027-06-01|2027-04-17|2027-04-17', $world->row(301));
            self::assertSame(['sync'], array_column($world->runs(), 'mode'), 'the run is in the history');

            $world->pdo()->exec('DROP TABLE opsync_problems');
            [$status, $out, $err] = $world->domainSync();
            self::assertSame(5, $status, $out . $err);
            self::assertSame(
                "opsync: the table opsync_problems is missing: activate the opsync addon in WHMCS (Setup > Addon Modules > "
                    . "opsync > Activate), which creates its tables; runs need no right to create or change tables\n",
                $err
            );
        } finally {
            foreach (['127.0.0.1', 'localhost'] as $host) {
                $root->exec("DROP USER IF EXISTS '$user'@'$host'");
            }
            $world->destroy();
        }
    }
}
