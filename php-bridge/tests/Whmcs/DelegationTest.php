<?php

declare(strict_types=1);

namespace Opsync\Tests\Whmcs;

use PHPUnit\Framework\TestCase;

/**
 * WHMCS's own domain sync handed to opsync by the one line INSTALL.md gives, pasted into
 * the Openprovider module's `openprovider.php` (the stand-in's copy keeps the real file's
 * function signatures) as an admin pastes it: both functions answer with opsync's decision,
 * nothing is declared twice however often the files load, a transfer of an extension the
 * module renews after a transfer is left to the module, and with the addon's folder gone the
 * module answers again.
 */
final class DelegationTest extends TestCase
{
    private World $world;

    private const MODULE = '/modules/registrars/openprovider/openprovider.php';

    protected function setUp(): void
    {
        $this->world = new World('delegation', World::demoRows(), World::demoDomains());
        [$status, $out, $err] = $this->world->install();
        self::assertSame(0, $status, $out . $err);
    }

    protected function tearDown(): void
    {
        $this->world->destroy();
    }

    /** INSTALL.md's line, the only line of the php block under "WHMCS's own domain sync". */
    private static function line(): string
    {
        $guide = (string) file_get_contents(World::repository() . '/php-bridge/INSTALL.md');
        self::assertSame(1, preg_match("/^## WHMCS's own domain sync\n(.*?)^## /ms", $guide, $section), 'INSTALL.md has the section');
        self::assertSame(1, preg_match("/^```php\n(.*?)\n```$/ms", $section[1], $block), 'the section has a php block');
        self::assertStringNotContainsString("\n", $block[1], 'one line, pasted as it is into both functions');
        return $block[1];
    }

    /** Pastes the line as the first line of both functions' bodies, as INSTALL.md says. */
    private function paste(): void
    {
        $file = $this->world->root . self::MODULE;
        $pasted = preg_replace(
            '/^(function openprovider_(?:Sync|TransferSync)\(\$\w+\)\s*\{)$/m',
            "\$1\n    " . self::line(),
            (string) file_get_contents($file),
            -1,
            $count
        );
        self::assertSame(2, $count, 'both functions found');
        file_put_contents($file, $pasted);
    }

    /**
     * WHMCS's answers for these rows, asked as WHMCS's domain sync asks, with the addon's
     * files and the delegation helpers loaded first and every function called twice.
     *
     * @param list<int> $ids
     * @return array<int, array{0: mixed, 1: mixed}>
     */
    private function ask(array $ids): array
    {
        [$status, $out, $err] = $this->world->insideWhmcs(
            "require ROOTDIR . '/modules/addons/opsync/opsync.php';\n"
            . "require ROOTDIR . '/modules/addons/opsync/hooks.php';\n"
            . "require ROOTDIR . '/modules/addons/opsync/delegate.php';\n"
            . "require ROOTDIR . '/modules/addons/opsync/delegate.php';\n"
            . "require_once ROOTDIR . '" . self::MODULE . "';\n"
            . '$answers = [];' . "\n"
            . 'foreach (' . json_encode($ids) . ' as $id) {' . "\n"
            . '    $params = ["domainid" => $id, "domain" => "(as WHMCS passes it)"];' . "\n"
            . '    $answers[$id] = [openprovider_Sync($params), openprovider_TransferSync($params)];' . "\n"
            . '    if ($answers[$id] !== [openprovider_Sync($params), openprovider_TransferSync($params)]) { echo "asked twice, answered differently"; exit(1); }' . "\n"
            . '}' . "\n"
            . 'echo json_encode($answers);'
        );
        self::assertSame(0, $status, $out . $err);
        self::assertSame('', $err);
        return json_decode($out, true, 512, JSON_THROW_ON_ERROR);
    }

    public function testTheModuleAnswersUntilTheLineIsPastedThenOpsyncDoes(): void
    {
        $module = ['error' => 'stand-in module: domainSync'];
        $moduleTransfer = ['error' => 'stand-in module: transferSync'];
        self::assertSame([104 => [$module, $moduleTransfer]], $this->ask([104]), 'the module as it ships');
        self::assertStringContainsString('asks the Openprovider module, not opsync', $this->findings());

        $this->paste();
        self::assertStringContainsString('delegates to it', $this->findings());
        $answers = $this->ask([101, 104, 105, 106, 108]);
        self::assertSame([['expirydate' => '2027-03-14'], []], $answers[101], 'renewed at the registrar');
        self::assertSame([['active' => true, 'expirydate' => '2027-11-27'], ['completed' => true, 'expirydate' => '2027-11-27']], $answers[104]);
        self::assertSame([['expired' => true], []], $answers[105], 'deleted at the registrar: Expired, never Cancelled');
        self::assertSame(
            [['error' => 'The domain name request has failed'], ['failed' => true, 'reason' => 'The domain name request has failed']],
            $answers[106],
            'Openprovider says the request failed (FAI): the one case opsync answers failed'
        );
        self::assertSame('Not found in the Openprovider account', $answers[108][0]['error'], 'transferred out: an error, never transferredAway');
        self::assertSame('Active|2026-03-14|2026-03-04|2026-03-04', $this->world->row(101), 'WHMCS writes what _Sync answers, not opsync');
        self::assertSame(0, $this->world->sandbox->counters()['update'], 'nothing pushed from _Sync');
    }

    public function testATransferOfAnExtensionTheModuleRenewsIsLeftToTheModule(): void
    {
        $this->paste();
        // As the module's docs write the list: comma and space.
        $this->world->advanced(['domainProcessingLimit' => 0, 'nextDueDateOffset' => 10, 'renewalDateSync' => false, 'renewTldsUponTransferCompletion' => 'nl, org']);
        $answers = $this->ask([104, 106]);
        self::assertSame(['error' => 'stand-in module: transferSync'], $answers[106][1], '.org: the module answers, and renews');
        self::assertSame(['error' => 'The domain name request has failed'], $answers[106][0], "the module's Sync is still opsync's");
        self::assertSame(['completed' => true, 'expirydate' => '2027-11-27'], $answers[104][1], '.com: opsync answers');
    }

    public function testWithTheAddonsFolderGoneThePastedLineDoesNothing(): void
    {
        $this->paste();
        $addon = $this->world->root . '/modules/addons/opsync';
        rename($addon, "$addon.removed");
        try {
            self::assertSame(
                [104 => [['error' => 'stand-in module: domainSync'], ['error' => 'stand-in module: transferSync']]],
                $this->askWithoutAddon([104])
            );
        } finally {
            rename("$addon.removed", $addon);
        }
    }

    /**
     * @param list<int> $ids
     * @return array<int, array{0: mixed, 1: mixed}>
     */
    private function askWithoutAddon(array $ids): array
    {
        [$status, $out, $err] = $this->world->insideWhmcs(
            "require_once ROOTDIR . '" . self::MODULE . "';\n"
            . '$answers = [];' . "\n"
            . 'foreach (' . json_encode($ids) . ' as $id) {' . "\n"
            . '    $answers[$id] = [openprovider_Sync(["domainid" => $id]), openprovider_TransferSync(["domainid" => $id])];' . "\n"
            . '}' . "\n"
            . 'echo json_encode($answers);'
        );
        self::assertSame(0, $status, $out . $err);
        return json_decode($out, true, 512, JSON_THROW_ON_ERROR);
    }

    /** What the addon page says of the module's files. */
    private function findings(): string
    {
        [$status, $out, $err] = $this->world->insideWhmcs(
            "require_once ROOTDIR . '/modules/addons/opsync/src/autoload.php';\n"
            . 'echo json_encode(\Opsync\Whmcs\ModuleFiles::check(ROOTDIR));'
        );
        self::assertSame(0, $status, $out . $err);
        return $out;
    }
}
