// The part of the WebAssembly JS API the emulator uses. TypeScript ships these types only in
// lib.dom / lib.webworker, which this Node project does not load; @types/node 20 has none.
declare global {
  namespace WebAssembly {
    type ImportValue = ((...args: never[]) => unknown) | Memory | Global | Table;
    type ModuleImports = Record<string, ImportValue>;
    type Imports = Record<string, ModuleImports>;
    type Exports = Record<string, unknown>;
    interface ModuleExportDescriptor {
      readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
      readonly name: string;
    }
    interface ModuleImportDescriptor {
      readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
      readonly module: string;
      readonly name: string;
    }
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
      static exports(module: Module): ModuleExportDescriptor[];
      static imports(module: Module): ModuleImportDescriptor[];
      static customSections(module: Module, sectionName: string): ArrayBuffer[];
    }
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Exports;
    }
    class Memory {
      constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    class Global {
      value: unknown;
    }
    class Table {
      readonly length: number;
    }
    class RuntimeError extends Error {}
    class CompileError extends Error {}
    class LinkError extends Error {}
    function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
    function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
  }
}
export {};
