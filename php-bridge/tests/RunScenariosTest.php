<?php

declare(strict_types=1);

namespace Opsync\Tests;

use Opsync\Engine;
use Opsync\InvalidRequest;
use PHPUnit\Framework\TestCase;

/**
 * The run scenarios (fixtures/runs/*.run.jsonl) through PHP's FFI: every recorded run
 * replayed in a run of its own, each outputs compared byte for byte.
 */
final class RunScenariosTest extends TestCase
{
    /** @return iterable<string, array{string}> */
    public static function scripts(): iterable
    {
        foreach (glob(__DIR__ . '/../../fixtures/runs/*.run.jsonl') ?: [] as $file) {
            yield basename($file, '.run.jsonl') => [$file];
        }
    }

    /** @dataProvider scripts */
    public function testRunScenarioReplaysByteForByte(string $file): void
    {
        $lines = array_values(array_filter(explode("\n", (string) file_get_contents($file)), static fn (string $l): bool => $l !== ''));
        $engine = new Engine(null, null, Engine::MODE_FFI);
        $run = $engine->startRun($lines[0]);
        self::assertSame($lines[1], $run->first(), 'the first outputs');
        for ($i = 2; $i < \count($lines); $i += 2) {
            $line = json_decode($lines[$i], false, 512, JSON_THROW_ON_ERROR);
            $header = json_encode($line->input, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
            self::assertSame($lines[$i + 1], $run->feed($header, (string) $line->body), 'step ' . ($i / 2));
        }
    }

    public function testThereAreRunScenarios(): void
    {
        self::assertGreaterThanOrEqual(18, \count(iterator_to_array(self::scripts())));
    }

    public function testABadInputIsRefusedAndTheRunGoesOn(): void
    {
        $lines = array_values(array_filter(explode("\n", (string) file_get_contents(__DIR__ . '/../../fixtures/runs/clean-sync.run.jsonl'))));
        $run = (new Engine(null, null, Engine::MODE_FFI))->startRun($lines[0]);
        try {
            $run->feed('{not json', '');
            self::fail('a header that is no JSON is refused');
        } catch (InvalidRequest $e) {
            self::assertStringStartsWith("input: not a run's input", $e->getMessage());
        }
        $line = json_decode($lines[2], false, 512, JSON_THROW_ON_ERROR);
        self::assertSame($lines[3], $run->feed((string) json_encode($line->input), (string) $line->body));
    }

    public function testTheSettingsVerbReadsTheModulesFile(): void
    {
        $shown = json_decode((new Engine(null, null, Engine::MODE_FFI))->settings((string) json_encode([
            'settings' => [
                'addon' => ['due_date_offset_days' => ''],
                'module' => ['nextDueDateOffset' => 14, 'api_url' => 'https://api.openprovider.eu'],
                'api' => ['username' => 'u', 'password' => 'p'],
            ],
        ])), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame(14, $shown['policy']['due_date_offset_days']);
        self::assertSame('https://api.openprovider.eu/v1beta', $shown['api_url']);
    }
}
