<?php

declare(strict_types=1);

namespace Opsync\Tests;

use PHPUnit\Framework\TestCase;

/**
 * WHMCS parses the addon's `opsync.php` whenever it lists its addon modules, and the hook
 * file on every request: on WHMCS 8.0 to 8.5 that is PHP 7.2 to 7.4, where a parse error
 * breaks the whole Addon Modules page. These files (and the cron entry points, which say
 * in one line that opsync needs PHP 8.1) keep to PHP 7.2's syntax. Only PHP 8.2 runs
 * here, so this reads their tokens and refuses every construct PHP 7.2 cannot parse that
 * a token shows (the code before their version check also calls nothing newer).
 */
final class OldPhpSyntaxTest extends TestCase
{
    /** @return iterable<string, array{string}> */
    public static function files(): iterable
    {
        $root = \dirname(__DIR__);
        foreach (['opsync.php', 'hooks.php', 'cron.php', 'delegate.php', 'preload.php'] as $file) {
            yield $file => ["$root/whmcs/modules/addons/opsync/$file"];
        }
        yield 'DomainSync.php' => ["$root/whmcs/modules/registrars/openprovider/cron/DomainSync.php"];
    }

    /** @dataProvider files */
    public function testParsesOnPhp72(string $file): void
    {
        self::assertSame([], self::newerThan72((string) file_get_contents($file)), $file);
    }

    public function testTheCheckFindsWhatPhp72CannotParse(): void
    {
        $newer = [
            'an arrow function' => '$f = fn ($x) => $x;',
            '??=' => '$a ??= 1;',
            'match' => '$a = match ($b) { 1 => 2 };',
            '?->' => '$a = $b?->c;',
            'an attribute' => "#[Attr]\nfunction f() {}",
            'readonly' => 'class A { public readonly int $a; }',
            'enum' => 'enum E {}',
            'a typed property' => 'class A { private ?int $a = null; }',
            'a numeric separator' => '$a = 1_000;',
            'a trailing comma in a call' => 'f(1, 2,);',
            'a named argument' => 'f(a: 1);',
            'a first-class callable' => '$f = strlen(...);',
            'static as a return type' => 'class A { function f(): static {} }',
            'mixed' => 'function f(): mixed {}',
            '::class on an object' => '$a = $b::class;',
        ];
        foreach ($newer as $what => $code) {
            self::assertNotSame([], self::newerThan72("<?php\n$code\n"), "$what went unseen");
        }
        self::assertSame([], self::newerThan72("<?php\n\$a = array(1, 2,);\n\$b = [1, 2,];\n\$c = \$d ? \$e : \$f;\n"
            . "function g(?array \$x = null): ?string { return null; }\nclass B { private \$p; public static function s() {} }\n"
            . "switch (\$a) { case 1: break; }\n\$h = function (\$v) use (\$a) { return \$v; };\n"));
    }

    /** @return list<string> each construct found that PHP 7.2 cannot parse, with its line */
    private static function newerThan72(string $code): array
    {
        $tokens = array_values(array_filter(
            token_get_all($code),
            static fn ($t): bool => !\is_array($t) || !\in_array($t[0], [T_WHITESPACE, T_COMMENT, T_DOC_COMMENT], true)
        ));
        $names = static fn ($t): string => \is_array($t) ? token_name($t[0]) : $t;
        $text = static fn ($t): string => \is_array($t) ? $t[1] : $t;
        $line = static fn (array $ts, int $i): int => (int) (array_values(array_filter(
            \array_slice($ts, 0, $i + 1),
            'is_array'
        ))[0][2] ?? 0);
        $found = [];
        $parens = [];
        foreach ($tokens as $i => $t) {
            $name = $names($t);
            $prev = $tokens[$i - 1] ?? null;
            $next = $tokens[$i + 1] ?? null;
            $at = \is_array($t) ? $t[2] : $line($tokens, $i);
            $newToken = [
                'T_FN' => 'an arrow function', 'T_COALESCE_EQUAL' => '??=', 'T_MATCH' => 'match',
                'T_NULLSAFE_OBJECT_OPERATOR' => '?->', 'T_ATTRIBUTE' => 'an attribute', 'T_READONLY' => 'readonly',
                'T_ENUM' => 'enum',
            ][$name] ?? null;
            if ($newToken !== null) {
                $found[] = "$newToken (line $at)";
            }
            if (\in_array($name, ['T_LNUMBER', 'T_DNUMBER'], true) && str_contains($text($t), '_')) {
                $found[] = "a numeric separator (line $at)";
            }
            if (\in_array($name, ['T_PRIVATE', 'T_PROTECTED', 'T_PUBLIC', 'T_VAR'], true)) {
                $j = $i + 1;
                while (\in_array($names($tokens[$j] ?? ''), ['T_STATIC'], true)) {
                    $j++;
                }
                if (\in_array($names($tokens[$j] ?? ''), ['?', 'T_STRING', 'T_ARRAY', 'T_NAME_QUALIFIED', 'T_NAME_FULLY_QUALIFIED'], true)) {
                    $k = $j + ($names($tokens[$j]) === '?' ? 2 : 1);
                    if ($names($tokens[$k] ?? '') === 'T_VARIABLE') {
                        $found[] = "a typed property (line $at)";
                    }
                }
            }
            if ($name === '(') {
                $parens[] = $names($prev ?? '') === 'T_ARRAY' ? 'array' : 'other';
            } elseif ($name === ')') {
                array_pop($parens);
            }
            if ($name === ',' && $names($next ?? '') === ')' && end($parens) !== 'array') {
                $found[] = "a trailing comma in a call or a parameter list (line $at)";
            }
            if ($name === 'T_STRING' && $names($next ?? '') === ':' && \in_array($names($prev ?? ''), ['(', ','], true) && $parens !== []) {
                $found[] = "a named argument (line $at)";
            }
            if ($name === 'T_ELLIPSIS' && $names($prev ?? '') === '(' && $names($next ?? '') === ')') {
                $found[] = "a first-class callable (line $at)";
            }
            if (
                $name === ':' && $names($prev ?? '') === ')' && ($names($next ?? '') === 'T_STATIC'
                    || ($names($next ?? '') === 'T_STRING' && \in_array(strtolower($text($next)), ['mixed', 'never'], true)))
            ) {
                $found[] = 'a return type of PHP 8 (line ' . $at . ')';
            }
            if ($name === 'T_CLASS' && $names($prev ?? '') === 'T_DOUBLE_COLON' && $names($tokens[$i - 2] ?? '') === 'T_VARIABLE') {
                $found[] = "::class on an object (line $at)";
            }
        }
        return $found;
    }
}
