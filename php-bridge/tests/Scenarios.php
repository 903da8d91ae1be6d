<?php

declare(strict_types=1);

namespace Opsync\Tests;

/** The shared scenarios in fixtures/scenarios: request, and expected response or error. */
final class Scenarios
{
    /** @return array<string, array{string, ?string, ?string}> name => [request, response, error] */
    public static function all(): array
    {
        return self::in(__DIR__ . '/../../fixtures/scenarios', 'request', 'response');
    }

    /** @return array<string, array{string, ?string, ?string}> the report scenarios: name => [input, report, error] */
    public static function reports(): array
    {
        return self::in(__DIR__ . '/../../fixtures/reports', 'input', 'report');
    }

    /** @return array<string, array{string, ?string, ?string}> */
    private static function in(string $dir, string $input, string $output): array
    {
        $cases = [];
        foreach (glob("$dir/*.$input.json") ?: [] as $file) {
            $name = basename($file, ".$input.json");
            $response = "$dir/$name.$output.json";
            $error = "$dir/$name.error.txt";
            $cases[$name] = [
                (string) file_get_contents($file),
                is_file($response) ? (string) file_get_contents($response) : null,
                is_file($error) ? (string) file_get_contents($error) : null,
            ];
        }
        ksort($cases);
        return $cases;
    }
}
