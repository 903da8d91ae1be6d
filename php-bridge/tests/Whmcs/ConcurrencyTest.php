<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use PHPUnit\Framework\TestCase;

/**
 * The drop-in beside the native runner and beside an admin: one lock for both hosts, and
 * a row edited while a run is under way is left as the admin left it.
 */
final class ConcurrencyTest extends TestCase
{
    private World $world;
    private Sandbox $other;

    protected function setUp(): void
    {
        $this->world = new World('lock', World::demoRows(), World::demoDomains());
        [$status, $out, $err] = $this->world->install();
        self::assertSame(0, $status, $out . $err);
        // Where the run that must not start would call: it must not call at all.
        $this->other = new Sandbox(World::demoDomains());
    }

    protected function tearDown(): void
    {
        $this->other->stop();
        $this->world->destroy();
    }

    /** Waits until some run holds the lock of the world's database. */
    private function waitForTheLock(): void
    {
        for ($i = 0; $i < 100; $i++) {
            $holder = $this->world->pdo()->query("SELECT IS_USED_LOCK(CONCAT('opsync_sync:', DATABASE()))")->fetchColumn();
            if ($holder !== null && $holder !== false) {
                return;
            }
            usleep(50_000);
        }
        self::fail('no run took the lock');
    }

    public function testANativeRunHoldingTheLockMakesTheDropInExitFourWithoutAnApiCall(): void
    {
        $this->world->sandbox->faults(['latency_ms' => 1500]);
        $native = $this->world->startNative(['sync', '--config', $this->world->nativeConfig('due_date_offset_days = 10')]);
        $this->waitForTheLock();

        [$status, $out, $err] = $this->world->domainSync([], ['OPSYNC_OP_BASE_URL' => $this->other->baseUrl]);
        self::assertSame(4, $status, $out . $err);
        self::assertSame("opsync: another opsync sync is running against this WHMCS database; this run did nothing\n", $err);
        self::assertSame(0, $this->other->counters()['total'], 'a refused run calls nothing');

        [$status, , $err] = $native->wait();
        self::assertSame(0, $status, $err);
        self::assertSame('opsync', $this->world->runs()[0]['host']);
    }

    public function testADropInRunHoldingTheLockMakesTheNativeRunExitFourWithoutAnApiCall(): void
    {
        $this->world->sandbox->faults(['latency_ms' => 1500]);
        $dropIn = $this->world->startDomainSync();
        $this->waitForTheLock();

        [$status, , $err] = $this->world->native(['sync', '--config', $this->world->nativeConfig('due_date_offset_days = 10', $this->other->baseUrl)]);
        self::assertSame(4, $status, $err);
        self::assertStringContainsString('another opsync sync is running', $err);
        self::assertSame(0, $this->other->counters()['total']);

        [$status, , $err] = $dropIn->wait();
        self::assertSame(0, $status, $err);
        self::assertSame(['whmcs'], array_column($this->world->runs(), 'host'));
    }

    public function testARowEditedDuringTheRunIsLeftAloneAndReported(): void
    {
        // Openprovider answers slowly, so the run reads WHMCS, then waits for the API:
        // the admin's edit lands between the drop-in's read and its write.
        $this->world->sandbox->faults(['latency_ms' => 1500]);
        $run = $this->world->startDomainSync();
        $this->waitForTheLock();
        usleep(500_000);
        $this->world->pdo()->exec("UPDATE tbldomains SET nextduedate = '2027-12-01' WHERE id = 104");
        [$status, , $err] = $run->wait();
        self::assertSame(0, $status, $err);

        self::assertSame('Pending Registration|0000-00-00|2027-12-01|0000-00-00', $this->world->row(104), "the admin's edit stands");
        self::assertSame('Expired|2026-10-01|2026-09-21|2026-09-21', $this->world->row(105), 'other rows are synced');
        self::assertSame([], array_values(array_filter($this->world->activity(), static fn (string $l) => str_contains($l, 'Domain ID: 104'))), 'nothing logged for it');
        $html = $this->world->mails()[0]['values']['custommessage'];
        self::assertStringContainsString('<td>104</td><td><a href="https://billing.example.com/admin/clientsdomains.php?userid=1&amp;id=104">'
            . 'just-registered.com</a></td><td>WHMCS update failed</td><td>the row changed in WHMCS after opsync read it; left as it is</td>', $html);
        self::assertSame('1', (string) $this->world->runs()[0]['failures']);
    }
}
