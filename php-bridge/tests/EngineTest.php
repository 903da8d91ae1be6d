<?php

declare(strict_types=1);

namespace Opsync\Tests;

use Opsync\Engine;
use Opsync\EngineUnavailable;
use Opsync\InvalidRequest;
use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Scenarios.php';

/** Opsync\Engine gives every scenario's exact bytes, through FFI and through the command. */
final class EngineTest extends TestCase
{
    /** @var array<string, Engine> */
    private static array $engines = [];

    private static function engine(string $mode): Engine
    {
        return self::$engines[$mode] ??= new Engine(null, null, $mode);
    }

    /** @return iterable<string, array{string, string, ?string, ?string}> */
    public static function scenariosInBothModes(): iterable
    {
        foreach (Scenarios::all() as $name => [$request, $response, $error]) {
            foreach ([Engine::MODE_FFI, Engine::MODE_COMMAND] as $mode) {
                yield "$name via $mode" => [$mode, $request, $response, $error];
            }
        }
    }

    /** @dataProvider scenariosInBothModes */
    public function testScenarioGivesItsExpectedAnswer(string $mode, string $request, ?string $response, ?string $error): void
    {
        $engine = self::engine($mode);
        self::assertSame($mode, $engine->mode());
        if ($response !== null) {
            // The files hold the answer plus the newline the commands print.
            self::assertSame($response, $engine->decide($request) . "\n");
            return;
        }
        try {
            $engine->decide($request);
            self::fail('an invalid request was answered');
        } catch (InvalidRequest $e) {
            self::assertSame(rtrim((string) $error, "\n"), $e->getMessage());
        }
    }

    /** @return iterable<string, array{string, string, ?string, ?string}> */
    public static function reportScenariosInBothModes(): iterable
    {
        foreach (Scenarios::reports() as $name => [$input, $report, $error]) {
            foreach ([Engine::MODE_FFI, Engine::MODE_COMMAND] as $mode) {
                yield "$name via $mode" => [$mode, $input, $report, $error];
            }
        }
    }

    /** @dataProvider reportScenariosInBothModes */
    public function testReportScenarioGivesItsExpectedReport(string $mode, string $input, ?string $report, ?string $error): void
    {
        $engine = self::engine($mode);
        if ($report !== null) {
            self::assertSame($report, $engine->renderReport($input) . "\n");
            return;
        }
        try {
            $engine->renderReport($input);
            self::fail('an invalid report input was rendered');
        } catch (InvalidRequest $e) {
            self::assertSame(rtrim((string) $error, "\n"), $e->getMessage());
        }
    }

    public function testThereAreReportScenariosToRun(): void
    {
        self::assertGreaterThanOrEqual(8, \count(Scenarios::reports()));
    }

    public function testThereAreScenariosToRun(): void
    {
        self::assertGreaterThanOrEqual(50, \count(Scenarios::all()));
    }

    public function testDecideArrayWorksOnPhpArraysAsPdoHandsThem(): void
    {
        $answer = self::engine(Engine::MODE_FFI)->decideArray([
            'whmcs' => [['id' => '12', 'domain' => 'example.com', 'status' => 'Active',
                'expirydate' => '0000-00-00', 'nextduedate' => '2026-05-20', 'nextinvoicedate' => '2026-05-20',
                'donotrenew' => '1', 'idprotection' => '']],
            'openprovider' => ['complete' => true, 'domains' => [[
                'id' => 7, 'domain' => ['name' => 'example', 'extension' => 'com'], 'status' => 'ACT',
                'expiration_date' => '2026-05-20 00:00:00', 'autorenew' => 'default',
                'is_private_whois_enabled' => false,
            ]]],
        ]);
        self::assertSame(12, $answer['results'][0]['whmcs_id']);
        self::assertSame(['from' => null, 'to' => '2026-05-20'], $answer['results'][0]['whmcs_changes']['expirydate']);
        self::assertSame(['from' => 'default', 'to' => 'off'], $answer['results'][0]['openprovider_changes']['autorenew']);
    }

    /** @return iterable<string, array{string}> */
    public static function modes(): iterable
    {
        yield 'ffi' => [Engine::MODE_FFI];
        yield 'command' => [Engine::MODE_COMMAND];
    }

    /** @dataProvider modes */
    public function testRenderReportGivesTheSameBytesInEitherMode(string $mode): void
    {
        $engine = self::engine($mode);
        $response = $engine->decide((string) file_get_contents(__DIR__ . '/../../fixtures/scenarios/contract-example.request.json'));
        $input = '{"response":' . $response . ',"dry_run":true}';
        $bytes = $engine->renderReport($input);
        self::assertSame(self::engine(Engine::MODE_FFI)->renderReport($input), $bytes);
        $report = json_decode($bytes, true, 512, JSON_THROW_ON_ERROR);
        self::assertTrue($report['send']);
        self::assertSame('[dry run] Domain Synchronisation Report: 1 domain would change', $report['subject']);
        self::assertStringContainsString('example.com', $report['html']);
    }

    /** @dataProvider modes */
    public function testBadReportInputIsAnInvalidRequestInEitherMode(string $mode): void
    {
        try {
            self::engine($mode)->renderReport('{"response": {}}');
            self::fail('bad report input was rendered');
        } catch (InvalidRequest $e) {
            self::assertStringStartsWith('report input: missing field', $e->getMessage());
            self::assertStringNotContainsString("\n", $e->getMessage());
        }
    }

    /** @dataProvider modes */
    public function testLookupNamesGivesTheFormTheEnginePairsIn(string $mode): void
    {
        self::assertSame(
            ['example.com', 'xn--bcher-kva.de', null],
            self::engine($mode)->lookupNames([' Example.COM. ', 'Bücher.de', 'not a name'])
        );
    }

    public function testVersionIsTheEnginesThroughEitherPath(): void
    {
        self::assertSame('opsync-engine 0.1.0', self::engine(Engine::MODE_FFI)->version());
        self::assertSame('opsync-engine 0.1.0', self::engine(Engine::MODE_COMMAND)->version());
    }

    public function testFallsBackToTheCommandWhenTheLibraryCannotBeLoaded(): void
    {
        $engine = new Engine('/nonexistent/libopsync_php.so');
        self::assertSame(Engine::MODE_COMMAND, $engine->mode());
    }

    public function testNeitherLibraryNorCommandIsAClearError(): void
    {
        $this->expectException(EngineUnavailable::class);
        $this->expectExceptionMessage(
            'The opsync engine is unavailable: the opsync library /nonexistent/libopsync_php.so does not exist; '
            . 'the opsync command /nonexistent/opsync is not an executable file'
        );
        new Engine('/nonexistent/libopsync_php.so', '/nonexistent/opsync');
    }

    public function testForcedFfiModeDoesNotFallBack(): void
    {
        $this->expectException(EngineUnavailable::class);
        $this->expectExceptionMessage('the opsync library /nonexistent/libopsync_php.so does not exist');
        new Engine('/nonexistent/libopsync_php.so', null, Engine::MODE_FFI);
    }
}
