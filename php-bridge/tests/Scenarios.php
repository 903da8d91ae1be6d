<?php

declare(strict_types=1);

namespace Opsync\Tests;

/** The shared scenarios in fixtures/scenarios: request, and expected response or error. */
final class Scenarios
{
    /** @return array<string, array{string, ?string, ?string}> name => [request, response, error] */
    public static function all(): array
    {
        $dir = __DIR__ . '/../../fixtures/scenarios';
        $cases = [];
        foreach (glob("$dir/*.request.json") ?: [] as $file) {
            $name = basename($file, '.request.json');
            $response = "$dir/$name.response.json";
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
