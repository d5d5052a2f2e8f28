import "./abi/abort";
export function proxy_abi_version_0_2_1(): void {}
