<?php

/**
 * STAND-IN for WHMCS's includes/registrarfunctions.php, for tests only:
 * `getRegistrarConfigOptions($registrar)` gives the registrar's settings, decrypted, from
 * ROOTDIR/standin-registrar.json (WHMCS keeps them encrypted in tblregistrars).
 */

declare(strict_types=1);

function getRegistrarConfigOptions($registrar)
{
    $all = json_decode((string) @file_get_contents(ROOTDIR . '/standin-registrar.json'), true);
    return is_array($all[$registrar] ?? null) ? $all[$registrar] : [];
}
